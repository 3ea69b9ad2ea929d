import Configuration
import Foundation
import SystemPackage
import Yams

/// Reads configuration in GridBus's order of precedence — command-line flags, then environment
/// variables (`GRIDBUS_…`), then the YAML file named by `--config` — and turns every bad value into a
/// ``ConfigurationError`` instead of silently using a default.
public struct GridConfigReader: Sendable {
    public let reader: ConfigReader
    public let configFile: String?
    public let environmentPrefix: String

    public init(reader: ConfigReader, configFile: String? = nil, environmentPrefix: String = "GRIDBUS") {
        self.reader = reader
        self.configFile = configFile
        self.environmentPrefix = environmentPrefix
    }

    /// Builds the reader for an executable.
    /// - Parameters:
    ///   - arguments: the command line (flags `--journal-path X` or `--journal-path=X`; `--config FILE`).
    ///   - keys: the documented keys; any other `--flag` is refused.
    ///   - extraFlags: flags the executable handles itself (e.g. `--help`).
    public static func load(
        arguments: [String],
        keys: [ConfigKeySpec],
        extraFlags: Set<String> = ["--help", "-h", "--config"],
        environmentPrefix: String = "GRIDBUS",
        environment: [String: String]? = nil
    ) async throws(ConfigurationError) -> GridConfigReader {
        let known = Set(keys.map(\.flag)).union(extraFlags)
        let renamed = keys.compactMap { $0.renamed(prefix: environmentPrefix) }
        let variables = environment ?? ProcessInfo.processInfo.environment
        for old in renamed where variables[old.variable] != nil { throw old.error(old.variable) }
        var given = Set<String>()
        for argument in arguments.dropFirst() where argument.hasPrefix("-") {
            let flag = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            if let old = renamed.first(where: { $0.flag == flag }) { throw old.error(flag) }
            guard known.contains(flag) else {
                throw ConfigurationError(key: flag, reason: "unknown option; see --help for the options this program takes")
            }
            // A repeated flag would reach the reader as a list and be ignored in favour of the default.
            guard given.insert(flag).inserted else { throw ConfigurationError(key: flag, reason: "given twice; give each option once") }
        }
        // A word that is not a flag's value (`--key value`) would be silently ignored.
        for (index, argument) in arguments.enumerated().dropFirst() where !argument.hasPrefix("-") {
            let previous = arguments[index - 1]
            guard index > 1, previous.hasPrefix("-"), !previous.contains("="), !["--help", "-h"].contains(previous) else {
                throw ConfigurationError(key: argument, reason: "unexpected argument; options are --KEY VALUE (see --help)")
            }
        }
        let cli = CommandLineArgumentsProvider(arguments: arguments)
        let environmentProvider = environment.map { EnvironmentVariablesProvider(environmentVariables: $0) } ?? EnvironmentVariablesProvider()
        let prefixedEnvironment = KeyMappingProvider(upstream: environmentProvider) { key in key.prepending([environmentPrefix.lowercased()]) }
        var providers: [any ConfigProvider] = [cli, prefixedEnvironment]
        let bootstrap = ConfigReader(providers: providers)
        let configFile = bootstrap.string(forKey: "config")
        if let configFile {
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(configFile)))
            } catch {
                throw ConfigurationError(key: "config", value: configFile, reason: "cannot read the YAML file: \(error)")
            }
            try Self.checkKeys(inFile: configFile, keys: keys)
        }
        return GridConfigReader(reader: ConfigReader(providers: providers), configFile: configFile, environmentPrefix: environmentPrefix)
    }

    /// Refuses keys in the YAML file that no option uses: a misspelt key would otherwise be ignored silently.
    static func checkKeys(inFile path: String, keys: [ConfigKeySpec]) throws(ConfigurationError) {
        let known = Set(keys.map(\.name))
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let root = try? Yams.compose(yaml: text)
        else { return }  // unreadable files were reported by the provider already
        var found: [String] = []
        func walk(_ node: Yams.Node, prefix: String) {
            guard case .mapping(let mapping) = node else {
                if !prefix.isEmpty { found.append(prefix) }
                return
            }
            for (key, value) in mapping {
                let name = prefix.isEmpty ? (key.string ?? "") : prefix + "." + (key.string ?? "")
                walk(value, prefix: name)
            }
        }
        walk(root, prefix: "")
        for key in found where !known.contains(key) {
            if let renamed = keys.first(where: { $0.formerly == key }) {
                throw ConfigurationError(key: key, reason: "was renamed '\(renamed.name)' (in \(path))")
            }
            let suggestion = known.min { editDistance($0, key) < editDistance($1, key) }
            var reason = "unknown key in \(path)"
            if let suggestion, editDistance(suggestion, key) <= 3 { reason += "; did you mean '\(suggestion)'?" }
            throw ConfigurationError(key: key, reason: reason)
        }
    }

    /// Levenshtein distance, for "did you mean" suggestions.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    // MARK: Typed, strict accessors

    public func string(_ key: String, default defaultValue: String) -> String {
        optionalString(key) ?? defaultValue
    }

    /// The key's text as written. swift-configuration's flag parser splits a value at its commas
    /// (`--journal-url postgresql://g@db1,db2/g` arrives as two values, which a string read refuses);
    /// the parts are joined again, so that a host list reads the same from a flag, the environment
    /// or the file.
    public func optionalString(_ key: String) -> String? {
        reader.string(forKey: ConfigKey(key)) ?? reader.stringArray(forKey: ConfigKey(key))?.joined(separator: ",")
    }

    public func int(_ key: String, default defaultValue: Int, in range: ClosedRange<Int> = Int.min...Int.max) throws(ConfigurationError) -> Int {
        guard let raw = raw(key) else { return defaultValue }
        guard let value = Int(raw.trimmingSpaces()) else { throw error(key, raw, "not an integer") }
        guard range.contains(value) else { throw error(key, raw, "must be between \(range.lowerBound) and \(range.upperBound)") }
        return value
    }

    public func bool(_ key: String, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let raw = raw(key) else { return defaultValue }
        switch raw.trimmingSpaces().lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw error(key, raw, "not a boolean (true or false)")
        }
    }

    /// A duration such as `500ms`, `30s`, `15m`, `12h` or `7d`, in seconds.
    public func duration(_ key: String, default defaultValue: Double) throws(ConfigurationError) -> Double {
        guard let raw = raw(key) else { return defaultValue }
        guard let value = Self.parseDuration(raw.trimmingSpaces()) else { throw error(key, raw, "not a duration (e.g. 500ms, 30s, 15m, 12h, 7d)") }
        return value
    }

    /// A size such as `1MiB`, `512KiB`, `10GiB` or a plain number of bytes.
    public func byteSize(_ key: String, default defaultValue: Int) throws(ConfigurationError) -> Int {
        guard let raw = raw(key) else { return defaultValue }
        guard let value = Self.parseByteSize(raw.trimmingSpaces()) else { throw error(key, raw, "not a size (e.g. 1048576, 512KiB, 64MiB, 10GiB)") }
        return value
    }

    /// `log.level`: trace, debug, info, notice, warning, error or critical.
    public func logLevel(default defaultValue: String = "info") throws(ConfigurationError) -> String {
        let level = string("log.level", default: defaultValue)
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
            throw error("log.level", level, "must be trace, debug, info, notice, warning, error or critical")
        }
        return level
    }

    /// One of a fixed set of words.
    public func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, default defaultValue: Choice) throws(ConfigurationError) -> Choice
    where Choice.RawValue == String {
        guard let raw = raw(key) else { return defaultValue }
        guard let value = Choice(rawValue: raw.trimmingSpaces().lowercased()) else {
            throw error(key, raw, "must be one of: \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    // MARK: Helpers

    /// The value as text, whatever its source type (YAML scalars arrive typed).
    public func raw(_ key: String) -> String? {
        let configKey = ConfigKey(key)
        if let text = reader.string(forKey: configKey) { return text }
        if let number = reader.int(forKey: configKey) { return String(number) }
        if let number = reader.double(forKey: configKey) { return String(number) }
        if let flag = reader.bool(forKey: configKey) { return String(flag) }
        return nil
    }

    public func error(_ key: String, _ value: String?, _ reason: String) -> ConfigurationError {
        let spec = ConfigKeySpec(key, default: "", "")
        var origins = [spec.environmentVariable(prefix: environmentPrefix), spec.flag]
        if let configFile { origins.insert("\(configFile) key '\(key)'", at: 0) }
        return ConfigurationError(key: key, value: value, reason: reason, origin: origins.joined(separator: ", or "))
    }

    public static func parseDuration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number >= 0 else { continue }
            return number * factor
        }
        return Double(text).flatMap { $0 >= 0 ? $0 : nil }
    }

    static func parseByteSize(_ text: String) -> Int? {
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count).trimmingSpaces()), number >= 0 else { return nil }
            return Int(number * Double(factor))
        }
        return Int(text).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// `--help` text for an executable: usage, then every key with its flag, variable and default.
    public static func helpText(
        program: String,
        summary: String,
        usage: String,
        keys: [ConfigKeySpec],
        environmentPrefix: String = "GRIDBUS"
    ) -> String {
        var text =
            "\(program) — \(summary)\n\nUSAGE: \(usage)\n\nOPTIONS (flag, environment variable, YAML key in --config FILE; flags win, then environment, then file):\n"
        text += "  --config FILE   YAML configuration file\n  --help          show this help\n\n"
        for key in keys {
            text +=
                "  \(key.flag) VALUE\n      \(key.environmentVariable(prefix: environmentPrefix)) · \(key.name) (default: \(key.defaultValue))\n      \(key.help)\n"
        }
        text += "\nEXIT CODES: 0 success, 1 runtime failure, 2 bad usage or configuration.\n"
        return text
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
