import GridConfiguration

/// How a worker's HTTP API admits callers: `auth.mode` and `auth.keys-file`, the same keys for
/// every worker (docs/security.md, "HTTP API keys").
public struct APIAuthSettings: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// API keys from `auth.keys-file`, checked by hash; a rate limit per key.
        case keys
        /// Development only: no key needed, every request is the client `development`.
        case none
    }

    public var mode = Mode.keys
    public var keysFile: String?

    public init(mode: Mode = .keys, keysFile: String? = nil) {
        self.mode = mode
        self.keysFile = keysFile
    }

    /// `fields` lists what each client entry says beyond name, key-sha256 and rate.
    public static func keys(fields: String) -> [ConfigKeySpec] {
        [
            ConfigKeySpec("auth.mode", default: "keys", "keys: API keys from auth.keys-file; none: development mode, no key needed"),
            ConfigKeySpec("auth.keys-file", default: "", "YAML list of clients: name, key-sha256, rate, \(fields); required with auth.mode keys"),
        ]
    }

    /// `guide` names the docs that explain the keys, for the error when the file is missing.
    public init(reader: GridConfigReader, guide: String) throws(ConfigurationError) {
        mode = try reader.choice("auth.mode", default: mode)
        keysFile = reader.optionalString("auth.keys-file").flatMap { $0.isEmpty ? nil : $0 }
        if mode == .keys && keysFile == nil {
            throw reader.error("auth.keys-file", nil, "required when auth.mode is keys (see \(guide)), or run with --auth-mode none for development")
        }
    }
}
