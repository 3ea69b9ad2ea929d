import GridBusClient
import GridConfiguration
import GridHTTP

/// Everything grid-notifier reads from its configuration (`grid-notifier --help`).
public struct NotifierConfiguration: Sendable {
    public var httpHost = "127.0.0.1"
    public var httpPort = 8082
    public var dataDirectory = "./var/notifier"
    public var districtDirectory = "deploy/sample"
    /// The rules file (docs/notifier.md#rules); empty: the built-in rules.
    public var rulesFile = ""
    /// Channel plugins: one `NAME.yaml` manifest each.
    public var channelsDirectory = "plugins/channels"
    /// The built-in webhook channel: a fixed URL (a gateway), or empty to use each recipient's own.
    public var webhookURL = ""
    /// File holding the webhook signing secret (its bytes, trailing newline dropped).
    public var webhookSecretFile = ""
    public var webhookTimeout: Double = 5
    public var webhookConcurrency = 16
    /// The built-in log channel's file; empty: `<data-dir>/notifications.jsonl`.
    public var logFile = ""
    public var deliveryInterval: Double = 0.1
    /// Settled notices planned longer ago leave the notification log (seconds; 0: kept for ever).
    public var notificationLogMaxAge: Double = 90 * 86_400
    public var auth = APIAuthSettings()
    public var bus = BusEndpoints()
    public var store = StoreSettings()
    public var logLevel = "info"

    public init() {}

    public static let keys: [ConfigKeySpec] =
        [
            ConfigKeySpec("http.host", default: "127.0.0.1", "address of the silences and notification-log HTTP API"),
            ConfigKeySpec("http.port", default: "8082", "port of the HTTP API (0 picks a free port)"),
            ConfigKeySpec("data-dir", default: "./var/notifier", "the notifier's store (notifier.sqlite: the notification log)"),
            ConfigKeySpec("district.dir", default: "deploy/sample", "the district: grids.geojson, roster.csv (contacts), categories.csv"),
            ConfigKeySpec("rules.file", default: "", "routes, operators, channel order, grouping, reminders, quiet hours, retries (empty: built in)"),
            ConfigKeySpec("channels.dir", default: "plugins/channels", "channel plugins, one NAME.yaml manifest each"),
            ConfigKeySpec("webhook.url", default: "", "the webhook channel posts here (empty: to each recipient's webhook address)"),
            ConfigKeySpec("webhook.secret-file", default: "", "file with the HMAC-SHA256 signing secret; required for the webhook channel"),
            ConfigKeySpec("webhook.timeout", default: "5s", "a webhook answer slower than this is tried again"),
            ConfigKeySpec("webhook.concurrency", default: "16", "webhook requests in flight at once"),
            ConfigKeySpec("log-channel.file", default: "", "the log channel's JSON-lines file (empty: <data-dir>/notifications.jsonl)"),
            ConfigKeySpec("delivery.interval", default: "100ms", "how often due messages and reminders are looked for when idle"),
            ConfigKeySpec(
                "notification-log.max-age",
                default: "90d",
                "settled notices planned longer ago leave the log (0: kept for ever; at least 1d)"
            ),
            ConfigKeySpec("log.level", default: "info", "trace, debug, info, notice, warning, error or critical"),
        ] + APIAuthSettings.keys(fields: "(nothing more)") + BusEndpoints.keys + StoreSettings.keys

    public init(reader: GridConfigReader) throws(ConfigurationError) {
        httpHost = reader.string("http.host", default: httpHost)
        httpPort = try reader.int("http.port", default: httpPort, in: 0...65535)
        dataDirectory = reader.string("data-dir", default: dataDirectory)
        districtDirectory = reader.string("district.dir", default: districtDirectory)
        rulesFile = reader.string("rules.file", default: rulesFile)
        channelsDirectory = reader.string("channels.dir", default: channelsDirectory)
        webhookURL = reader.string("webhook.url", default: webhookURL)
        webhookSecretFile = reader.string("webhook.secret-file", default: webhookSecretFile)
        webhookTimeout = try reader.duration("webhook.timeout", default: webhookTimeout)
        webhookConcurrency = try reader.int("webhook.concurrency", default: webhookConcurrency, in: 1...256)
        logFile = reader.string("log-channel.file", default: logFile)
        deliveryInterval = try reader.duration("delivery.interval", default: deliveryInterval)
        guard deliveryInterval >= 0.01 else { throw reader.error("delivery.interval", String(deliveryInterval), "must be at least 10ms") }
        notificationLogMaxAge = try reader.duration("notification-log.max-age", default: notificationLogMaxAge)
        guard notificationLogMaxAge == 0 || notificationLogMaxAge >= 86_400 else {
            throw reader.error("notification-log.max-age", reader.raw("notification-log.max-age"), "must be 0 (kept for ever) or at least 1d")
        }
        auth = try APIAuthSettings(reader: reader, guide: "docs/notifier.md, API keys")
        bus = try BusEndpoints(reader: reader)
        store = try StoreSettings(reader: reader)
        logLevel = try reader.logLevel(default: logLevel)
    }
}
