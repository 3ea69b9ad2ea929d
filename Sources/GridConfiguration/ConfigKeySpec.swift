/// One documented configuration key: its name, default and meaning. `--help` and
/// `docs/configuration.md` are generated from these, and unknown flags are refused against them.
public struct ConfigKeySpec: Sendable {
    public let name: String
    public let defaultValue: String
    public let help: String
    /// The key's name before it was renamed: a file, flag or environment variable that still uses
    /// it is refused with the new name, not ignored.
    public let formerly: String?

    public init(_ name: String, default defaultValue: String, _ help: String, formerly: String? = nil) {
        self.name = name
        self.defaultValue = defaultValue
        self.help = help
        self.formerly = formerly
    }

    /// `journal.max-bytes` → `--journal-max-bytes`.
    public var flag: String { Self.flag(name) }

    /// `journal.max-bytes` → `GRIDBUS_JOURNAL_MAX_BYTES`.
    public func environmentVariable(prefix: String) -> String { Self.environmentVariable(name, prefix: prefix) }

    static func flag(_ name: String) -> String { "--" + name.replacingDots(with: "-") }

    static func environmentVariable(_ name: String, prefix: String) -> String {
        (prefix + "_" + name.replacingDots(with: "_").replacingDashes(with: "_")).uppercased()
    }

    /// Where a renamed key may still be used, and the error that says so.
    func renamed(prefix: String) -> (flag: String, variable: String, error: (String) -> ConfigurationError)? {
        guard let formerly else { return nil }
        return (
            Self.flag(formerly), Self.environmentVariable(formerly, prefix: prefix),
            { old in
                ConfigurationError(
                    key: old,
                    reason: "was renamed: use \(flag), \(environmentVariable(prefix: prefix)) or the key '\(name)' in a file"
                )
            }
        )
    }
}

extension String {
    func replacingDots(with replacement: Character) -> String { String(map { $0 == "." ? replacement : $0 }) }
    func replacingDashes(with replacement: Character) -> String { String(map { $0 == "-" ? replacement : $0 }) }
}
