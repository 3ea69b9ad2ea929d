/// One documented configuration key: its name, default and meaning. `--help` and
/// `docs/configuration.md` are generated from these, and unknown flags are refused against them.
public struct ConfigKeySpec: Sendable {
    public let name: String
    public let defaultValue: String
    public let help: String

    public init(_ name: String, default defaultValue: String, _ help: String) {
        self.name = name
        self.defaultValue = defaultValue
        self.help = help
    }

    /// `journal.max-bytes` → `--journal-max-bytes`.
    public var flag: String { "--" + name.replacingDots(with: "-") }

    /// `journal.max-bytes` → `GRIDBUS_JOURNAL_MAX_BYTES`.
    public func environmentVariable(prefix: String) -> String {
        (prefix + "_" + name.replacingDots(with: "_").replacingDashes(with: "_")).uppercased()
    }
}

extension String {
    func replacingDots(with replacement: Character) -> String { String(map { $0 == "." ? replacement : $0 }) }
    func replacingDashes(with replacement: Character) -> String { String(map { $0 == "-" ? replacement : $0 }) }
}
