import GridBusClient
import GridConfiguration
import GridHTTP

/// Everything grid-intake reads from its configuration (`grid-intake --help`).
public struct IntakeConfiguration: Sendable {
    public var httpHost = "127.0.0.1"
    public var httpPort = 8080
    public var dataDirectory = "./var/intake"
    public var districtDirectory = "deploy/sample"
    public var auth = APIAuthSettings()
    public var maxBodySize = 64 << 10
    public var bus = BusEndpoints()
    public var store = StoreSettings()
    public var logLevel = "info"

    public init() {}

    public static let keys: [ConfigKeySpec] =
        [
            ConfigKeySpec("http.host", default: "127.0.0.1", "address of the HTTP API"),
            ConfigKeySpec("http.port", default: "8080", "port of the HTTP API (0 picks a free port)"),
            ConfigKeySpec("http.max-body-size", default: "64KiB", "larger request bodies are refused with 413"),
            ConfigKeySpec("data-dir", default: "./var/intake", "the intake's store (intake.sqlite: incidents and the outbox)"),
            ConfigKeySpec("district.dir", default: "deploy/sample", "the district: grids.geojson, roster.csv, categories.csv"),
            ConfigKeySpec("log.level", default: "info", "trace, debug, info, notice, warning, error or critical"),
        ] + APIAuthSettings.keys(fields: "channel") + BusEndpoints.keys + StoreSettings.keys

    public init(reader: GridConfigReader) throws(ConfigurationError) {
        httpHost = reader.string("http.host", default: httpHost)
        httpPort = try reader.int("http.port", default: httpPort, in: 0...65535)
        maxBodySize = try reader.byteSize("http.max-body-size", default: maxBodySize)
        guard (1024...(16 << 20)).contains(maxBodySize) else {
            throw reader.error("http.max-body-size", String(maxBodySize), "must be between 1KiB and 16MiB")
        }
        dataDirectory = reader.string("data-dir", default: dataDirectory)
        districtDirectory = reader.string("district.dir", default: districtDirectory)
        auth = try APIAuthSettings(reader: reader, guide: "docs/intake.md, API keys")
        bus = try BusEndpoints(reader: reader)
        store = try StoreSettings(reader: reader)
        logLevel = try reader.logLevel(default: logLevel)
    }
}
