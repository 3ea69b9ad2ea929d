import GridBusClient
import GridConfiguration

/// Everything grid-intake reads from its configuration (`grid-intake --help`).
public struct IntakeConfiguration: Sendable {
    public enum AuthMode: String, Sendable, CaseIterable {
        /// API keys from `auth.keys-file`, checked by hash; a rate limit per key.
        case keys
        /// Development only: no key needed, every request is the client `development`.
        case none
    }

    public var httpHost = "127.0.0.1"
    public var httpPort = 8080
    public var dataDirectory = "./var/intake"
    public var districtDirectory = "deploy/sample"
    public var authMode = AuthMode.keys
    public var keysFile: String?
    public var maxBodySize = 64 << 10
    public var bus = BusEndpoints()
    public var logLevel = "info"

    public init() {}

    public static let keys: [ConfigKeySpec] =
        [
            ConfigKeySpec("http.host", default: "127.0.0.1", "address of the HTTP API"),
            ConfigKeySpec("http.port", default: "8080", "port of the HTTP API (0 picks a free port)"),
            ConfigKeySpec("http.max-body-size", default: "64KiB", "larger request bodies are refused with 413"),
            ConfigKeySpec("data-dir", default: "./var/intake", "the intake's store (intake.sqlite: incidents and the outbox)"),
            ConfigKeySpec("district.dir", default: "deploy/sample", "the district: grids.geojson, roster.csv, categories.csv"),
            ConfigKeySpec("auth.mode", default: "keys", "keys: API keys from auth.keys-file; none: development mode, no key needed"),
            ConfigKeySpec("auth.keys-file", default: "", "YAML list of clients: name, key-sha256, rate, channel; required with auth.mode keys"),
            ConfigKeySpec("log.level", default: "info", "trace, debug, info, notice, warning, error or critical"),
        ] + BusEndpoints.keys

    public init(reader: GridConfigReader) throws(ConfigurationError) {
        httpHost = reader.string("http.host", default: httpHost)
        httpPort = try reader.int("http.port", default: httpPort, in: 0...65535)
        maxBodySize = try reader.byteSize("http.max-body-size", default: maxBodySize)
        guard (1024...(16 << 20)).contains(maxBodySize) else { throw reader.error("http.max-body-size", String(maxBodySize), "must be between 1KiB and 16MiB") }
        dataDirectory = reader.string("data-dir", default: dataDirectory)
        districtDirectory = reader.string("district.dir", default: districtDirectory)
        authMode = try reader.choice("auth.mode", default: authMode)
        keysFile = reader.optionalString("auth.keys-file").flatMap { $0.isEmpty ? nil : $0 }
        if authMode == .keys && keysFile == nil {
            throw reader.error("auth.keys-file", nil, "required when auth.mode is keys (see docs/intake.md, API keys), or run with --auth-mode none for development")
        }
        bus = try BusEndpoints(reader: reader)
        logLevel = try reader.logLevel(default: logLevel)
    }
}
