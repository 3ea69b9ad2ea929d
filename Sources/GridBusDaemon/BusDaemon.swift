import CoreMetrics
import Foundation
import GridPlugins
import GridPostgres
import GridSchema
import GridSecurity
import GridStore
import Logging
import ServiceLifecycle
import ZeroMQ

/// gridbusd's bus: one thread per socket or file, each owning what it touches.
///
/// ```
/// ingress ROUTER ──batches──▶ journal (SQLite or PostgreSQL, group commit) ──entries──▶ egress XPUB
///        ▲                          │
///        └──────── ACK / NACK ──────┘                replay ROUTER ◀── journal reader
///
/// ZAP REP (inproc): admits CURVE peers by key and names their identity (CURVE mode only)
/// ```
/// Shutdown runs in pipeline order: the ingress stops reading and answers what it handed on,
/// the journal finishes its queue, the egress sends what was written, then replay stops.
public final class BusDaemon: Service, CustomStringConvertible {
    public let description = "BusDaemon"
    let configuration: BusConfiguration
    let context: ZMQContext
    let metrics: BusMetrics
    let state = BusState()
    let logger: Logger
    let security: BusSecurity
    let plugins: PluginBoard?
    private let started = BoundedBuffer<BoundEndpoints>(capacity: 1)

    /// The endpoints actually bound (ports resolved when configured as `*`).
    public struct BoundEndpoints: Sendable, Codable, Hashable {
        public var ingress: String
        public var egress: String
        public var replay: String
    }

    public init(
        configuration: BusConfiguration,
        context: ZMQContext,
        security: BusSecurity,
        plugins: PluginBoard?,
        metricsFactory: any MetricsFactory,
        logger: Logger
    ) {
        self.configuration = configuration
        self.context = context
        self.security = security
        self.plugins = plugins
        self.metrics = BusMetrics(factory: metricsFactory)
        self.logger = logger
    }

    /// Waits until the sockets are bound; returns their endpoints.
    public func boundEndpoints() async -> BoundEndpoints? {
        guard let endpoints = await started.pop() else { return nil }
        _ = started.tryPush(endpoints)
        return endpoints
    }

    /// Whether every loop is running (for `/healthz`): journal, checkpoint, egress, replay, ingress, and with CURVE
    /// the ZAP handler and the handshake monitor.
    /// On PostgreSQL there is no checkpoint loop, and a node that cannot reach the database is not healthy.
    public var isHealthy: Bool {
        let snapshot = state.snapshot
        let loops = (security.access.enforces ? 7 : 5) - (configuration.journalBackend == .sqlite ? 0 : 1)
        return snapshot.loopsRunning == loops && !snapshot.role.isUnavailable
    }
    public var headSequence: UInt64 { state.head }

    public func run() async throws {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        if configuration.journalBackend == .sqlite {
            let journalDirectory = (configuration.journalPath as NSString).deletingLastPathComponent
            if !journalDirectory.isEmpty { try FileManager.default.createDirectory(atPath: journalDirectory, withIntermediateDirectories: true) }
        }

        let ingressStop = StopFlag()
        let journalStop = StopFlag()
        let replayStop = StopFlag()
        let answersReady = ZMQWakeup()
        let eventsReady = ZMQWakeup()
        // The egress polls until its next heartbeat: wake it to stop, or shutdown waits for one.
        let egressStop = StopFlag(wake: { eventsReady.signal() })
        // Every batch holds at least one event, so `ingress.max-pending` (counted in events by the
        // ingress) is what bounds this queue; a limit in batches would refuse small batches early.
        let toJournal = BoundedBuffer<[IncomingEvent]>(capacity: configuration.maxPendingEvents)
        let answers = BoundedBuffer<[PublishAnswer]>(capacity: 256, onItems: { answersReady.signal() })
        let toEgress = BoundedBuffer<[JournalEntry]>(capacity: 256, onItems: { eventsReady.signal() })
        let configuration = self.configuration
        let context = self.context
        let state = self.state
        let metrics = self.metrics
        let logger = self.logger
        let security = self.security
        let plugins = self.plugins
        // The journal opens first: nothing is accepted without a place to write it.
        let journalThread = try await Self.startThread(name: "journal", state: state) { ready in
            let journal: any JournalStorage
            do {
                journal = try Self.openJournal(configuration, state: state, logger: logger, wake: { toJournal.interruptWait() })
            } catch { return ready(.failure(error)) }
            // Publish the journal's extent before the egress starts: its heartbeats begin at this head.
            state.update {
                $0.head = journal.head
                $0.tail = journal.tail
                $0.journalEvents = journal.eventCount
                $0.journalBytes = journal.eventBytes
                $0.role = journal.role
            }
            ready(.success(""))
            JournalLoop(
                configuration: configuration,
                journal: journal,
                fromIngress: toJournal,
                answers: answers,
                toEgress: toEgress,
                state: state,
                metrics: metrics,
                logger: logger,
                stop: journalStop
            ).run()
        }
        var threads: [(StopFlag, ZMQThread)] = [(journalStop, journalThread.thread)]
        // Stopped last: it may still be asked about peers while the other loops drain.
        var zapThread: [(StopFlag, ZMQThread)] = []
        let checkpointStop = StopFlag()
        if configuration.journalBackend == .sqlite {
            let checkpointer = try await Self.startThread(name: "checkpoint", state: state) { ready in
                let connection: SQLiteConnection
                do { connection = try SQLiteConnection(path: configuration.journalPath) } catch { return ready(.failure(error)) }
                ready(.success(""))
                // Passive checkpoints from here keep the journal's WAL short, so that a group commit
                // (and every publish waiting on it) copies the WAL only as the backstop (`WALCheckpointing`).
                WALCheckpointing(interval: .milliseconds(250)).run(connection, isStopped: { checkpointStop.isSet }) { error in
                    logger.warning("journal checkpoint failed; will retry", metadata: ["error": "\(error)"])
                }
                try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  // leave a small WAL behind at shutdown
            }
            threads.append((checkpointStop, checkpointer.thread))
        }
        do {
            // The ZAP handler comes first: with ZAP_ENFORCE_DOMAIN, a handshake without it is refused.
            if security.access.enforces {
                let zapStop = StopFlag()
                let zap = try await Self.startThread(name: "zap", state: state) { ready in
                    let socket: ZMQSocket
                    do {
                        socket = try ZMQSocket(context: context, type: .reply)
                        try socket.bind(ZAPHandler.endpoint)
                        ready(.success(ZAPHandler.endpoint))
                    } catch { return ready(.failure(error)) }
                    var handler = ZAPHandler(access: security.access, metrics: security.metrics, logger: logger)
                    handler.run(socket: socket, stop: zapStop, logger: logger)
                }
                let monitor = try await Self.startThread(name: "handshakes", state: state) { ready in
                    ready(.success(""))
                    var reporter = DenialReporter(metrics: security.metrics, logger: logger)
                    security.handshakes.run(context: context, reporter: &reporter, stop: zapStop, logger: logger)
                }
                zapThread = [(zapStop, zap.thread), (zapStop, monitor.thread)]
            }
            let egressEndpoint = try await Self.startThread(name: "egress", state: state) { ready in
                func open(_ endpoint: String) throws(ZMQError) -> ZMQSocket {
                    let socket = try ZMQSocket(context: context, type: .xpublish)
                    try socket.setXPubManual(true)
                    try security.configureServer(socket, name: "egress")
                    try socket.setSendHighWaterMark(Int32(configuration.egressHighWaterMark))
                    try socket.bind(endpoint)
                    return socket
                }
                let socket: ZMQSocket
                let bound: String
                do {
                    socket = try open(configuration.egressEndpoint)
                    bound = try socket.lastEndpoint
                    ready(.success(bound))
                } catch { return ready(.failure(error)) }
                var loop = EgressLoop(
                    configuration: configuration,
                    fromJournal: toEgress,
                    eventsReady: eventsReady,
                    state: state,
                    metrics: metrics,
                    logger: logger,
                    stop: egressStop,
                    access: security.access,
                    reporter: DenialReporter(metrics: security.metrics, logger: logger)
                )
                loop.run(socket: socket) { (old) throws(ZMQError) -> ZMQSocket in
                    old.close()
                    // libzmq releases the port on its I/O thread, moments after close.
                    for attempt in 1...50 {
                        do throws(ZMQError) { return try open(bound) } catch  where error.code == EADDRINUSE && attempt < 50 { usleep(20_000) }
                    }
                    return try open(bound)
                }
            }
            threads.insert((egressStop, egressEndpoint.thread), at: 1)
            let replayEndpoint = try await Self.startThread(name: "replay", state: state) { ready in
                let socket: ZMQSocket
                let reader: any JournalReading
                do {
                    reader = try Self.openReader(configuration, state: state, logger: logger)
                    socket = try ZMQSocket(context: context, type: .router)
                    try security.configureServer(socket, name: "replay")
                    try socket.setRouterMandatory(true)
                    try socket.setSendHighWaterMark(Int32(min(configuration.replayMaxBatch * 2 + 16, Int(Int32.max))))
                    try socket.setSendTimeout(milliseconds: 5000)
                    try socket.bind(configuration.replayEndpoint)
                    ready(.success(try socket.lastEndpoint))
                } catch { return ready(.failure(error)) }
                var loop = ReplayLoop(
                    configuration: configuration,
                    state: state,
                    metrics: metrics,
                    logger: logger,
                    stop: replayStop,
                    security: security,
                    plugins: plugins,
                    reporter: DenialReporter(metrics: security.metrics, logger: logger)
                )
                loop.run(socket: socket, reader: reader)
            }
            threads.append((replayStop, replayEndpoint.thread))
            let ingressEndpoint = try await Self.startThread(name: "ingress", state: state) { ready in
                let socket: ZMQSocket
                do {
                    socket = try ZMQSocket(context: context, type: .router)
                    try security.configureServer(socket, name: "ingress")
                    // Far larger frames than the event limit cut the connection instead of filling memory;
                    // anything up to this size gets a proper NACK too-large.
                    try socket.setMaximumMessageSize(Int64(configuration.maxEventSize) * 4 + 4096)
                    try socket.setReceiveHighWaterMark(100_000)
                    try socket.setSendHighWaterMark(100_000)
                    try socket.bind(configuration.ingressEndpoint)
                    let bound = try socket.lastEndpoint
                    // What a follower tells publishers to use instead, once this node leads.
                    state.update { $0.advertise = configuration.clusterAdvertise ?? bound }
                    ready(.success(bound))
                } catch { return ready(.failure(error)) }
                var loop = IngressLoop(
                    configuration: configuration,
                    toJournal: toJournal,
                    answers: answers,
                    answersReady: answersReady,
                    metrics: metrics,
                    logger: logger,
                    stop: ingressStop,
                    access: security.access,
                    reporter: DenialReporter(metrics: security.metrics, logger: logger)
                )
                loop.run(socket: socket)
            }
            threads.insert((ingressStop, ingressEndpoint.thread), at: 0)
            let snapshot = state.snapshot
            logger.notice(
                "gridbusd bus started",
                metadata: [
                    "bus.ingress": "\(ingressEndpoint.endpoint)", "bus.egress": "\(egressEndpoint.endpoint)",
                    "bus.replay": "\(replayEndpoint.endpoint)",
                    "journal": "\(configuration.journalDescription)", "journal.role": "\(snapshot.role.name)",
                    "journal.durability": "\(configuration.durabilityDescription)",
                    "journal.head": "\(snapshot.head)", "journal.events": "\(snapshot.journalEvents)",
                ]
            )
            if security.access.enforces {
                logger.notice(
                    "CURVE on: only listed keys reach the bus",
                    metadata: [
                        "identities": "\(security.access.policy.identities.keys.sorted())",
                        "server.public-key.file": "\(security.publicKeyFile ?? "")",
                    ]
                )
            } else {
                logger.warning(
                    "DEVELOPMENT MODE: security.mode is none; no encryption, no authentication, no access lists: any process that can reach the endpoints can publish and read everything"
                )
            }
            _ = started.tryPush(BoundEndpoints(ingress: ingressEndpoint.endpoint, egress: egressEndpoint.endpoint, replay: replayEndpoint.endpoint))
        } catch {
            await Self.stop(threads + zapThread)
            started.close()
            throw error
        }
        try? await gracefulShutdown()
        logger.info("draining: answering accepted publishes, flushing the journal")
        await Self.stop(threads + zapThread)
        started.close()
        logger.notice("gridbusd bus stopped", metadata: ["journal.head": "\(state.head)"])
    }

    /// The journal's writing side on the configured backend.
    /// - Parameter wake: ends the journal thread's wait for publishes, when a follower has the leader's writes to read.
    private static func openJournal(
        _ configuration: BusConfiguration,
        state: BusState,
        logger: Logger,
        wake: @escaping @Sendable () -> Void
    ) throws -> any JournalStorage {
        switch configuration.journalBackend {
        case .sqlite:
            return try SQLiteJournal(path: configuration.journalPath, durability: configuration.durability, maxFileSize: configuration.maxFileSize)
        case .postgresql:
            var settings = try postgresSettings(configuration, state: state)
            settings.wake = wake
            return try PostgresJournal(settings: settings, logger: logger)
        }
    }

    private static func openReader(_ configuration: BusConfiguration, state: BusState, logger: Logger) throws -> any JournalReading {
        switch configuration.journalBackend {
        case .sqlite: try SQLiteJournalReader(path: configuration.journalPath)
        case .postgresql: PostgresJournalReader(settings: try postgresSettings(configuration, state: state), logger: logger)
        }
    }

    private static func postgresSettings(_ configuration: BusConfiguration, state: BusState) throws -> PostgresJournalSettings {
        guard let url = configuration.journalURL else { throw PostgresLinkError.unavailable(["journal.url is not set"]) }
        return PostgresJournalSettings(
            url: url,
            password: configuration.journalPassword,
            advertise: { state.snapshot.advertise },
            leaseSeconds: configuration.leaseSeconds
        )
    }

    /// Stops loops in pipeline order, each after the one feeding it has finished.
    private static func stop(_ threads: [(StopFlag, ZMQThread)]) async {
        for (flag, thread) in threads {
            flag.set()
            await thread.join()
        }
    }

    /// Starts a loop on its own thread; returns once its socket is bound, or rethrows why it could not be.
    private static func startThread(
        name: String,
        state: BusState,
        _ body: @escaping @Sendable (_ ready: @Sendable (Result<String, any Error>) -> Void) -> Void
    ) async throws -> (thread: ZMQThread, endpoint: String) {
        let result = BoundedBuffer<Result<String, any Error>>(capacity: 1)
        let thread = ZMQThread(name: "gridbusd-\(name)") {
            let running = StopFlag()
            body { outcome in
                if case .success = outcome {
                    running.set()
                    state.update { $0.loopsRunning += 1 }
                }
                _ = result.tryPush(outcome)
            }
            if running.isSet { state.update { $0.loopsRunning -= 1 } }
        }
        guard let outcome = await result.pop() else { throw CancellationError() }
        return (thread, try outcome.get())
    }
}
