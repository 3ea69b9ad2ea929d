import GridBusClient
import GridConfiguration
import GridHTTP

/// Everything grid-dispatcher reads from its configuration (`grid-dispatcher --help`).
public struct DispatcherConfiguration: Sendable {
    public var httpHost = "127.0.0.1"
    public var httpPort = 8081
    public var dataDirectory = "./var/dispatcher"
    public var districtDirectory = "deploy/sample"
    public var strategy = AssignmentStrategy.leastLoad
    // Short, so that timers leave as they fall due, not a second's worth at once ahead of new reports.
    public var timerInterval: Double = 0.1
    public var auth = APIAuthSettings()
    /// The escalation file (docs/dispatcher.md#escalation-file); empty: the built-in policy.
    public var escalationFile = ""
    public var mergeRadiusMeters: Double = 50
    public var mergeWindow: Double = 3600
    public var reopenDays = 7
    public var volunteerPoints = 10
    /// How long a handler's `Idempotency-Key` is remembered (seconds; 0: for ever).
    public var idempotencyWindow: Double = 7 * 86_400
    /// Where `grid-dispatcher rebuild` writes; empty: `<data-dir>/dispatcher.rebuilt.sqlite`.
    public var rebuildInto = ""
    public var bus = BusEndpoints()
    public var store = StoreSettings()
    public var logLevel = "info"

    public init() {}

    /// The settings of the dispatcher core; reads the escalation file, checked against the catalogue.
    public func settings(catalogue: [String]) throws(DefinitionError) -> DispatchSettings {
        var settings = DispatchSettings()
        if !escalationFile.isEmpty { settings.escalation = try EscalationFile.load(escalationFile, catalogue: catalogue) }
        settings.mergeRadiusMeters = mergeRadiusMeters
        settings.mergeWindow = mergeWindow
        settings.reopenDays = Double(reopenDays)
        settings.volunteerPoints = volunteerPoints
        return settings
    }

    public static let keys: [ConfigKeySpec] =
        [
            ConfigKeySpec("http.host", default: "127.0.0.1", "address of the handlers' and operators' HTTP API"),
            ConfigKeySpec("http.port", default: "8081", "port of the HTTP API (0 picks a free port)"),
            ConfigKeySpec("data-dir", default: "./var/dispatcher", "the dispatcher's store (dispatcher.sqlite)"),
            ConfigKeySpec("district.dir", default: "deploy/sample", "the district: grids.geojson, roster.csv, categories.csv"),
            ConfigKeySpec("assignment.strategy", default: "least-load", "least-load, round-robin or skill-match"),
            ConfigKeySpec("timers.interval", default: "100ms", "how often due timers (escalation, reminders, overdue) are checked"),
            ConfigKeySpec(
                "escalation.file",
                default: "",
                "acknowledgement limits, reminders and ladders per category and priority (empty: built in)"
            ),
            ConfigKeySpec("merge.radius", default: "50", "reports of one category this many meters apart…"),
            ConfigKeySpec("merge.window", default: "1h", "…and this close in time merge into one case"),
            ConfigKeySpec("reopen.days", default: "7", "days after closing during which a case may be reopened"),
            ConfigKeySpec("volunteer.points", default: "10", "points a volunteer earns for a closed micro-wish task"),
            ConfigKeySpec(
                "requests.idempotency-window",
                default: "7d",
                "how long a request's Idempotency-Key is remembered (0: for ever; at least 1h)"
            ),
            ConfigKeySpec("rebuild.into", default: "", "grid-dispatcher rebuild writes here (empty: <data-dir>/dispatcher.rebuilt.sqlite)"),
            ConfigKeySpec("log.level", default: "info", "trace, debug, info, notice, warning, error or critical"),
        ] + APIAuthSettings.keys(fields: "scopes (handler, operator)") + BusEndpoints.keys + StoreSettings.keys

    public init(reader: GridConfigReader) throws(ConfigurationError) {
        httpHost = reader.string("http.host", default: httpHost)
        httpPort = try reader.int("http.port", default: httpPort, in: 0...65535)
        dataDirectory = reader.string("data-dir", default: dataDirectory)
        districtDirectory = reader.string("district.dir", default: districtDirectory)
        strategy = try reader.choice("assignment.strategy", default: strategy)
        timerInterval = try reader.duration("timers.interval", default: timerInterval)
        guard timerInterval >= 0.05 else { throw reader.error("timers.interval", String(timerInterval), "must be at least 50ms") }
        auth = try APIAuthSettings(reader: reader, guide: "docs/dispatcher.md, API keys")
        escalationFile = reader.string("escalation.file", default: escalationFile)
        mergeRadiusMeters = Double(try reader.int("merge.radius", default: Int(mergeRadiusMeters), in: 0...100_000))
        mergeWindow = try reader.duration("merge.window", default: mergeWindow)
        reopenDays = try reader.int("reopen.days", default: reopenDays, in: 0...3650)
        volunteerPoints = try reader.int("volunteer.points", default: volunteerPoints, in: 0...1_000_000)
        idempotencyWindow = try reader.duration("requests.idempotency-window", default: idempotencyWindow)
        guard idempotencyWindow == 0 || idempotencyWindow >= 3600 else {
            throw reader.error("requests.idempotency-window", reader.raw("requests.idempotency-window"), "must be 0 (for ever) or at least 1h")
        }
        rebuildInto = reader.string("rebuild.into", default: rebuildInto)
        bus = try BusEndpoints(reader: reader)
        store = try StoreSettings(reader: reader)
        logLevel = try reader.logLevel(default: logLevel)
    }
}
