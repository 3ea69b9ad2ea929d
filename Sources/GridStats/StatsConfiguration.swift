import Foundation
import GridBusClient
import GridConfiguration
import GridHTTP

/// Everything grid-stats reads from its configuration (`grid-stats --help`).
public struct StatsConfiguration: Sendable {
    public var httpHost = "127.0.0.1"
    public var httpPort = 8083
    public var dataDirectory = "./var/stats"
    public var districtDirectory = "deploy/sample"
    public var dispatchLimit: Double = 600
    public var minimumSample = 10
    public var timeZone = "Asia/Shanghai"
    /// Where `grid-stats rebuild` writes; empty: `<data-dir>/stats.rebuilt.sqlite`.
    public var rebuildInto = ""
    public var auth = APIAuthSettings()
    public var bus = BusEndpoints()
    public var store = StoreSettings()
    public var logLevel = "info"

    public init() {}

    public static let keys: [ConfigKeySpec] =
        [
            ConfigKeySpec("http.host", default: "127.0.0.1", "address of the dashboard, /metrics and /api/v1"),
            ConfigKeySpec("http.port", default: "8083", "port of the HTTP server (0 picks a free port)"),
            ConfigKeySpec("data-dir", default: "./var/stats", "the statistics' store (stats.sqlite)"),
            ConfigKeySpec("district.dir", default: "deploy/sample", "the district: grids (map, towns, communities), roster, categories"),
            ConfigKeySpec("indicators.dispatch-limit", default: "10m", "a dispatch within this time of registration is timely"),
            ConfigKeySpec("indicators.minimum-sample", default: "10", "rankings leave out places with fewer cases behind the indicator"),
            ConfigKeySpec("indicators.time-zone", default: "Asia/Shanghai", "reporting days begin at midnight here"),
            ConfigKeySpec("rebuild.into", default: "", "grid-stats rebuild writes here (empty: <data-dir>/stats.rebuilt.sqlite)"),
            ConfigKeySpec("log.level", default: "info", "trace, debug, info, notice, warning, error or critical"),
        ] + APIAuthSettings.keys(fields: "(nothing more)") + BusEndpoints.keys + StoreSettings.keys

    public init(reader: GridConfigReader) throws(ConfigurationError) {
        httpHost = reader.string("http.host", default: httpHost)
        httpPort = try reader.int("http.port", default: httpPort, in: 0...65535)
        dataDirectory = reader.string("data-dir", default: dataDirectory)
        districtDirectory = reader.string("district.dir", default: districtDirectory)
        dispatchLimit = try reader.duration("indicators.dispatch-limit", default: dispatchLimit)
        minimumSample = try reader.int("indicators.minimum-sample", default: minimumSample, in: 1...1_000_000)
        timeZone = reader.string("indicators.time-zone", default: timeZone)
        guard TimeZone(identifier: timeZone) != nil else {
            throw reader.error("indicators.time-zone", timeZone, "is not a time zone (e.g. Asia/Shanghai)")
        }
        rebuildInto = reader.string("rebuild.into", default: rebuildInto)
        auth = try APIAuthSettings(reader: reader, guide: "docs/stats.md, API keys")
        bus = try BusEndpoints(reader: reader)
        store = try StoreSettings(reader: reader)
        logLevel = try reader.logLevel(default: logLevel)
    }

    public var settings: Statistics.Settings {
        var settings = Statistics.Settings()
        settings.dispatchLimit = dispatchLimit
        settings.minimumSample = minimumSample
        settings.timeZone = TimeZone(identifier: timeZone)!
        return settings
    }
}
