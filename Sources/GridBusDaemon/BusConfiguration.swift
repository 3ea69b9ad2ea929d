import Foundation
import GridConfiguration
import GridPostgres
import GridSecurity

/// Where the journal lives.
public enum JournalBackend: String, Sendable, CaseIterable {
    /// A file beside the daemon: the embedded default, one node.
    case sqlite
    /// A PostgreSQL database that several gridbusd nodes share, one of them leading (docs/operations.md, "A cluster").
    case postgresql
}

/// How a GridBus ACK relates to the disk; see docs/operations.md "What an ACK promises".
public enum JournalDurability: String, Sendable, CaseIterable {
    /// fsync the write-ahead log at every group commit: an ACKed event survives power loss.
    case full
    /// Write to the OS at every group commit, fsync at checkpoints: an ACKed event survives a crash or
    /// `kill -9` of the daemon, but the last commits before a power loss or kernel crash may be lost.
    case normal
}

/// Everything gridbusd reads from its configuration.
public struct BusConfiguration: Sendable {
    public var ingressEndpoint = "tcp://127.0.0.1:7600"
    public var egressEndpoint = "tcp://127.0.0.1:7601"
    public var replayEndpoint = "tcp://127.0.0.1:7602"
    public var httpHost = "127.0.0.1"
    public var httpPort = 7680
    public var dataDirectory = "./var"
    public var journalBackend = JournalBackend.sqlite
    public var journalPath = "./var/journal.sqlite"
    /// With the PostgreSQL backend: where, and the password from `journal.password-file` or
    /// `GRIDBUS_JOURNAL_PASSWORD` (never a flag: flags show in process lists).
    public var journalURL: PostgresURL?
    public var journalPassword: String?
    /// This node's ingress as publishers reach it; a follower names the leader's in `not-leader`.
    public var clusterAdvertise: String?
    public var leaseSeconds: Double = 2
    public var durability = JournalDurability.full
    public var retentionMaxAge: Double = 7 * 86400
    public var retentionMaxBytes = 10 << 30
    public var retentionInterval: Double = 60
    /// Hard cap on the journal file; 0 means none. Beyond it publishes are NACKed `storage`.
    public var maxFileSize = 0
    public var maxEventSize = 1 << 20
    public var maxBatch = 2000
    public var maxPendingEvents = 100_000
    public var egressHighWaterMark = 10_000
    public var heartbeatInterval: Double = 1
    public var lagThreshold = 10_000
    public var replayMaxBatch = 10_000
    public var logLevel = "info"
    /// libzmq I/O threads: they run TCP and, with CURVE, all encryption.
    public var ioThreads = 2
    /// CURVE with ZAP and access lists, or none (development mode only).
    public var securityMode = SecurityMode.curve
    /// gridbusd's secret certificate (`gridbusd.key_secret`, mode 0600).
    public var serverKeyFile: String?
    /// Identities that are not plugins (operators, monitoring, external publishers).
    public var accessFile: String?
    /// Where plugin manifests live; nil runs no plugins.
    public var pluginsDirectory: String?
    /// Start without a plugin whose manifest is malformed (reported) instead of refusing to start.
    public var skipInvalidPlugins = false

    public init() {}

    /// What an ACK waits for, for logs and status: `journal.durability` on SQLite; PostgreSQL's
    /// own settings decide it there (docs/operations.md, "What an ACK promises").
    public var durabilityDescription: String { journalBackend == .sqlite ? durability.rawValue : "PostgreSQL's" }

    /// Where the journal is, for logs and status: the file, or the PostgreSQL URL (which holds no password).
    public var journalDescription: String {
        switch journalBackend {
        case .sqlite: journalPath
        case .postgresql: journalURL.map(\.description) ?? ""
        }
    }

    /// The keys, defaults and meanings behind `gridbusd --help` and docs/configuration.md.
    public static let keys: [ConfigKeySpec] = [
        // The bus's endpoints have one name in every program: gridbusd binds them, clients connect.
        ConfigKeySpec("bus.ingress", default: "tcp://127.0.0.1:7600", "ROUTER endpoint publishers connect to", formerly: "ingress.endpoint"),
        ConfigKeySpec("bus.egress", default: "tcp://127.0.0.1:7601", "XPUB endpoint subscribers connect to", formerly: "egress.endpoint"),
        ConfigKeySpec("bus.replay", default: "tcp://127.0.0.1:7602", "ROUTER endpoint for replay, status and ping", formerly: "replay.endpoint"),
        ConfigKeySpec("http.host", default: "127.0.0.1", "address of /healthz and /metrics"),
        ConfigKeySpec("http.port", default: "7680", "port of /healthz and /metrics (0 picks a free port)"),
        ConfigKeySpec("data-dir", default: "./var", "data directory; the journal lives here unless journal.path says otherwise"),
        ConfigKeySpec("journal.backend", default: "sqlite", "sqlite: a file beside this daemon; postgresql: a database several gridbusd nodes share"),
        ConfigKeySpec("journal.path", default: "<data-dir>/journal.sqlite", "SQLite journal file"),
        ConfigKeySpec(
            "journal.url",
            default: "",
            "PostgreSQL journal: postgresql://USER@HOST[:PORT][,HOST[:PORT]…]/DATABASE[?target_session_attrs=read-write&sslmode=prefer]; no password in it"
        ),
        ConfigKeySpec(
            "journal.password-file",
            default: "",
            "file holding the PostgreSQL password (mode 0600); else GRIDBUS_JOURNAL_PASSWORD, else none (trust or peer authentication)"
        ),
        ConfigKeySpec(
            "cluster.advertise",
            default: "<the bound bus.ingress>",
            "this node's ingress as publishers reach it: followers name the leader's in their not-leader answers"
        ),
        ConfigKeySpec("cluster.lease-timeout", default: "2s", "a leader that has not renewed its lease for this long is replaced"),
        ConfigKeySpec(
            "journal.durability",
            default: "full",
            "full: fsync every group commit (survives power loss); normal: survives kill -9 of the daemon, not power loss"
        ),
        ConfigKeySpec("journal.max-age", default: "7d", "events older than this are removed (retention)"),
        ConfigKeySpec("journal.max-bytes", default: "10GiB", "oldest events are removed while the journal's event bytes exceed this"),
        ConfigKeySpec("journal.retention-interval", default: "60s", "how often retention runs"),
        ConfigKeySpec(
            "journal.max-file-size",
            default: "0",
            "hard cap on the journal file (0: none); when reached, publishes are NACKed storage until retention frees space"
        ),
        ConfigKeySpec("ingress.max-event-size", default: "1MiB", "larger events are NACKed too-large"),
        ConfigKeySpec("ingress.max-batch", default: "2000", "most events read before handing a batch to the journal"),
        ConfigKeySpec("ingress.max-pending", default: "100000", "events waiting for the journal beyond which publishes are NACKed overloaded"),
        ConfigKeySpec("egress.high-water-mark", default: "10000", "messages queued per subscriber before it misses events (it recovers by replay)"),
        ConfigKeySpec("egress.heartbeat-interval", default: "1s", "bus.heartbeat period"),
        ConfigKeySpec(
            "egress.lag-threshold",
            default: "10000",
            "a reporting subscriber this many events behind the head is logged and counted as lagging"
        ),
        ConfigKeySpec("replay.max-batch", default: "10000", "most events in one replay answer"),
        ConfigKeySpec("log.level", default: "info", "trace, debug, info, notice, warning, error or critical"),
        ConfigKeySpec("zmq.io-threads", default: "2", "libzmq I/O threads; they carry TCP and all CURVE encryption (1–16)"),
        ConfigKeySpec(
            "security.mode",
            default: "curve",
            "curve: CURVE encryption, only listed keys, per-identity access lists; none: development mode, anyone local can use the bus"
        ),
        ConfigKeySpec("security.server-key", default: "", "gridbusd's secret certificate (gridctl keygen gridbusd); required with curve"),
        ConfigKeySpec("security.access-file", default: "", "YAML file of identities that are not plugins: name, key, publish and subscribe lists"),
        ConfigKeySpec("plugins.dir", default: "", "directory of plugin manifests (*.yaml) to run; empty runs none"),
        ConfigKeySpec(
            "plugins.skip-invalid",
            default: "false",
            "start without malformed plugin manifests (each is reported) instead of refusing to start"
        ),
    ]

    /// Reads and checks every key. See ``keys`` for names and defaults.
    /// - Parameter environment: where `GRIDBUS_JOURNAL_PASSWORD` is looked up.
    public init(reader: GridConfigReader, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) {
        ingressEndpoint = reader.string("bus.ingress", default: ingressEndpoint)
        egressEndpoint = reader.string("bus.egress", default: egressEndpoint)
        replayEndpoint = reader.string("bus.replay", default: replayEndpoint)
        for (key, endpoint) in [("bus.ingress", ingressEndpoint), ("bus.egress", egressEndpoint), ("bus.replay", replayEndpoint)] {
            guard endpoint.contains("://") else {
                throw reader.error(key, endpoint, "not a ZeroMQ endpoint (e.g. tcp://127.0.0.1:7600 or ipc:///run/gridbus/ingress)")
            }
        }
        let fixed = [ingressEndpoint, egressEndpoint, replayEndpoint].filter { !$0.hasSuffix(":*") }
        guard Set(fixed).count == fixed.count else {
            throw reader.error("bus.replay", replayEndpoint, "ingress, egress and replay need three different endpoints")
        }
        httpHost = reader.string("http.host", default: httpHost)
        httpPort = try reader.int("http.port", default: httpPort, in: 0...65535)
        dataDirectory = reader.string("data-dir", default: dataDirectory)
        journalPath = reader.string("journal.path", default: dataDirectory + "/journal.sqlite")
        durability = try reader.choice("journal.durability", default: durability)
        journalBackend = try reader.choice("journal.backend", default: journalBackend)
        let url = reader.optionalString("journal.url").flatMap { $0.isEmpty ? nil : $0 }
        if journalBackend == .postgresql {
            guard let url else {
                throw reader.error(
                    "journal.url",
                    nil,
                    "required when journal.backend is postgresql, e.g. postgresql://gridbus@db1:5432,db2:5432/gridbus"
                )
            }
            do { journalURL = try PostgresURL(parsing: url) } catch { throw reader.error("journal.url", error.url, error.reason) }
            let passwordFile = reader.optionalString("journal.password-file").flatMap { $0.isEmpty ? nil : $0 }
            do {
                journalPassword = try PostgresPassword.resolve(
                    file: passwordFile,
                    variable: "GRIDBUS_JOURNAL_PASSWORD",
                    environment: environment
                )
            } catch { throw reader.error("journal.password-file", error.file, error.reason) }
        } else if url != nil {
            throw reader.error("journal.url", url, "is only read with journal.backend postgresql")
        }
        clusterAdvertise = reader.optionalString("cluster.advertise").flatMap { $0.isEmpty ? nil : $0 }
        if let clusterAdvertise, !clusterAdvertise.contains("://") || clusterAdvertise.hasSuffix(":*") {
            throw reader.error("cluster.advertise", clusterAdvertise, "not an endpoint publishers can connect to (e.g. tcp://10.0.0.11:7600)")
        }
        leaseSeconds = try reader.duration("cluster.lease-timeout", default: leaseSeconds)
        guard (0.2...60).contains(leaseSeconds) else {
            throw reader.error("cluster.lease-timeout", String(leaseSeconds), "must be between 200ms and 60s")
        }
        retentionMaxAge = try reader.duration("journal.max-age", default: retentionMaxAge)
        retentionMaxBytes = try reader.byteSize("journal.max-bytes", default: retentionMaxBytes)
        retentionInterval = try reader.duration("journal.retention-interval", default: retentionInterval)
        maxFileSize = try reader.byteSize("journal.max-file-size", default: maxFileSize)
        maxEventSize = try reader.byteSize("ingress.max-event-size", default: maxEventSize)
        guard (256...(64 << 20)).contains(maxEventSize) else {
            throw reader.error("ingress.max-event-size", String(maxEventSize), "must be between 256 bytes and 64MiB")
        }
        maxBatch = try reader.int("ingress.max-batch", default: maxBatch, in: 1...100_000)
        maxPendingEvents = try reader.int("ingress.max-pending", default: maxPendingEvents, in: 1...10_000_000)
        egressHighWaterMark = try reader.int("egress.high-water-mark", default: egressHighWaterMark, in: 1...10_000_000)
        heartbeatInterval = try reader.duration("egress.heartbeat-interval", default: heartbeatInterval)
        guard heartbeatInterval >= 0.01 else { throw reader.error("egress.heartbeat-interval", String(heartbeatInterval), "must be at least 10ms") }
        lagThreshold = try reader.int("egress.lag-threshold", default: lagThreshold, in: 1...Int.max)
        replayMaxBatch = try reader.int("replay.max-batch", default: replayMaxBatch, in: 1...1_000_000)
        logLevel = try reader.logLevel(default: logLevel)
        ioThreads = try reader.int("zmq.io-threads", default: ioThreads, in: 1...16)
        securityMode = try reader.choice("security.mode", default: securityMode)
        serverKeyFile = reader.optionalString("security.server-key").flatMap { $0.isEmpty ? nil : $0 }
        accessFile = reader.optionalString("security.access-file").flatMap { $0.isEmpty ? nil : $0 }
        pluginsDirectory = reader.optionalString("plugins.dir").flatMap { $0.isEmpty ? nil : $0 }
        skipInvalidPlugins = try reader.bool("plugins.skip-invalid", default: skipInvalidPlugins)
        if securityMode == .curve && serverKeyFile == nil {
            throw reader.error(
                "security.server-key",
                nil,
                "required when security.mode is curve: create a key pair with `gridctl keygen gridbusd --dir KEYDIR` and pass KEYDIR/gridbusd.key_secret, or run with --security-mode none for development"
            )
        }
    }
}
