import GridBusClient
import GridConfiguration

/// Everything grid-dispatcher reads from its configuration (`grid-dispatcher --help`).
public struct DispatcherConfiguration: Sendable {
    public var httpHost = "127.0.0.1"
    public var httpPort = 8081
    public var dataDirectory = "./var/dispatcher"
    public var districtDirectory = "deploy/sample"
    public var strategy = AssignmentStrategy.leastLoad
    public var timerInterval: Double = 1
    public var bus = BusEndpoints()
    public var logLevel = "info"

    public init() {}

    public static let keys: [ConfigKeySpec] =
        [
            ConfigKeySpec("http.host", default: "127.0.0.1", "address of the handlers' and operators' HTTP API"),
            ConfigKeySpec("http.port", default: "8081", "port of the HTTP API (0 picks a free port)"),
            ConfigKeySpec("data-dir", default: "./var/dispatcher", "the dispatcher's store (dispatcher.sqlite)"),
            ConfigKeySpec("district.dir", default: "deploy/sample", "the district: grids.geojson, roster.csv, categories.csv"),
            ConfigKeySpec("assignment.strategy", default: "least-load", "least-load, round-robin or skill-match"),
            ConfigKeySpec("timers.interval", default: "1s", "how often due timers (escalation, reminders, overdue) are checked"),
            ConfigKeySpec("log.level", default: "info", "trace, debug, info, notice, warning, error or critical"),
        ] + BusEndpoints.keys

    public init(reader: GridConfigReader) throws(ConfigurationError) {
        httpHost = reader.string("http.host", default: httpHost)
        httpPort = try reader.int("http.port", default: httpPort, in: 0...65535)
        dataDirectory = reader.string("data-dir", default: dataDirectory)
        districtDirectory = reader.string("district.dir", default: districtDirectory)
        strategy = try reader.choice("assignment.strategy", default: strategy)
        timerInterval = try reader.duration("timers.interval", default: timerInterval)
        guard timerInterval >= 0.05 else { throw reader.error("timers.interval", String(timerInterval), "must be at least 50ms") }
        bus = try BusEndpoints(reader: reader)
        logLevel = try reader.logLevel(default: logLevel)
    }
}
