import GridMetrics
import GridStore
import Logging
import ServiceLifecycle
import Synchronization
import ZeroMQ

/// What every worker runs on: its store, the ZeroMQ context, the reliable publisher that delivers
/// the store's outbox, and the durable subscriptions that feed it from the bus.
///
/// A worker writes through ``write(durable:_:)`` (its changes and the events they publish commit
/// together, in the store's group commit, and the commit wakes the publisher) and reads through
/// ``read(_:)``; it follows the bus with ``subscribe(prefixes:maxBatch:catchUpEvery:handler:)``.
/// ``services(_:)`` lists what to run, in dependency order: the publisher, the subscriptions, then
/// the worker's own services (timers, HTTP), so that a graceful shutdown stops the worker's own
/// first and the publisher last, once everything they committed is in the outbox.
public final class WorkerRuntime: Sendable {
    /// The worker's name: the source of the events it publishes, and its subscription's name.
    public let name: String
    public let bus: BusEndpoints
    public let store: WorkerStore
    /// Where the worker's metrics go (its `/metrics` serves the factory's registry).
    public let metrics: DescribedMetricsFactory
    private let context: ZMQContext
    private let publisher: ReliablePublisher?
    /// With instances sharing a PostgreSQL store: the lease this one holds, renewed while it runs.
    private let lease: WorkerLease?
    private let subscribers = Mutex<[DurableSubscriber]>([])
    private let logger: Logger

    /// - Parameters:
    ///   - publishes: false for a worker that publishes nothing (the statistics): no publisher runs
    ///     and nothing connects to the ingress.
    ///   - metrics: the process's metrics; the runtime's own are described there (``metricsHelp``).
    public init(
        name: String,
        bus: BusEndpoints,
        store: WorkerStore,
        publishes: Bool = true,
        lease: WorkerLease? = nil,
        metrics: DescribedMetricsFactory = DescribedMetricsFactory(),
        logger: Logger
    ) {
        self.name = name
        self.lease = lease
        self.bus = bus
        self.store = store
        self.logger = logger
        self.metrics = metrics
        metrics.describe(Self.metricsHelp)
        let context = ZMQContext()
        self.context = context
        publisher = publishes ? ReliablePublisher(store: store, bus: bus, context: context, metrics: metrics, logger: logger) : nil
    }

    /// A runtime on the store at `store`, brought to this build's schema by `migrations`.
    /// - Parameters:
    ///   - durable: commits are synced (an answered request survives a power loss; see ``WorkerStore``).
    ///   - checkpointInterval: checkpoint the store's WAL (SQLite) from a thread of its own this often.
    ///   - lease: on PostgreSQL, the store's lease this instance holds (``WorkerLease/acquire(metrics:)``):
    ///     every write checks it, and it is renewed while the runtime runs.
    public convenience init(
        name: String,
        bus: BusEndpoints,
        store location: StoreLocation,
        durable: Bool = false,
        checkpointInterval: Duration? = .milliseconds(250),
        migrations: Migrations,
        publishes: Bool = true,
        lease: WorkerLease? = nil,
        metrics: DescribedMetricsFactory = DescribedMetricsFactory(),
        logger: Logger
    ) throws {
        let store = try WorkerStore(
            location,
            durable: durable,
            checkpointInterval: checkpointInterval,
            migrations: migrations,
            fence: lease?.fence,
            logger: logger
        )
        self.init(name: name, bus: bus, store: store, publishes: publishes, lease: lease, metrics: metrics, logger: logger)
    }

    // MARK: The store

    /// Commits `body`'s changes and the events it hands to the outbox together (see
    /// ``WorkerStore/write(durable:_:)``); the publisher delivers the events after the commit.
    public func write<T: Sendable>(
        durable: Bool = true,
        _ body: @escaping @Sendable (any StoreConnection, OutboxWriter) throws -> T
    ) async throws -> T {
        try await store.write(durable: durable, body)
    }

    /// Reads from the store (see ``WorkerStore/read(_:)``).
    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreConnection) throws -> T) async throws -> T {
        try await store.read(body)
    }

    // MARK: The bus

    /// Follows the bus from this worker's stored cursor: `handler` gets every event whose topic
    /// starts with one of `prefixes`, in sequence order, at least once (see ``DurableSubscriber``).
    /// - Parameters:
    ///   - name: the subscription's name (its cursor, and what `gridctl status` shows); the worker's by default.
    ///   - maxBatch: most events handed to `handler` at once.
    ///   - catchUpEvery: live events let gather before they are read together.
    public func subscribe(
        name: String? = nil,
        prefixes: [String],
        maxBatch: Int = 1,
        catchUpEvery: Int = 1,
        handler: @escaping DurableSubscriber.BatchHandler
    ) {
        let subscriber = DurableSubscriber(
            name: name ?? self.name,
            endpoints: bus,
            prefixes: prefixes,
            store: store,
            context: context,
            logger: logger,
            maxBatch: maxBatch,
            catchUpEvery: catchUpEvery,
            metrics: metrics,
            batchHandler: handler
        )
        subscribers.withLock { $0.append(subscriber) }
    }

    /// A client of the bus's replay socket (a rebuild reads the journal with it); close it when done.
    public func requester() -> BusRequester {
        BusRequester(context: context, endpoint: bus.replay, credentials: bus.credentials)
    }

    // MARK: Running

    /// What to run, in dependency order: the store's lease (if instances share it), the publisher,
    /// the subscriptions, then `others`, the worker's own services. A graceful shutdown stops them
    /// in reverse: the lease is handed back last.
    public func services(_ others: [any Service]) -> [any Service] {
        var services: [any Service] = lease.map { [$0] } ?? []
        if let publisher { services.append(publisher) }
        services += subscribers.withLock { $0 } as [any Service]
        return services + others
    }

    /// Events committed and not yet acknowledged by the bus (status, tests, shutdown reports).
    public func undeliveredCount() async throws -> Int { try await store.outboxCount() }

    // MARK: Metrics

    /// The help text of the runtime's metrics, by label.
    public static let metricsHelp: [String: String] = [
        "gridbus_worker_events_acked_total": "Events of the outbox the bus acknowledged.",
        "gridbus_worker_events_resent_total": "Events sent to the bus again after no answer or a retryable NACK (the bus de-duplicates them).",
        "gridbus_worker_events_rejected_total": "Events the bus refused for good, moved to the store's rejected table for an operator.",
        "gridbus_worker_events_handled_total": "Bus events handed to the worker, by subscription.",
        "gridbus_worker_events_skipped_total": "Bus events the worker failed to handle three times and skipped, by subscription.",
        "gridbus_worker_cursor_sequence": "The last bus sequence handled and saved, by subscription.",
    ]

    /// Read from the store at scrape time: what waits to reach the bus, and what the bus refused.
    public func metricsText() async throws -> String {
        let (outbox, rejected) = try await (store.outboxCount(), store.rejectedCount())
        var text = PrometheusText()
        text.family(
            "gridbus_worker_outbox_events",
            "gauge",
            "Events in the outbox: not yet acknowledged by the bus, or acknowledged in the last 100 ms (a growing backlog: the bus is unreachable or refusing).",
            [([], Double(outbox))]
        )
        text.family(
            "gridbus_worker_rejected_events",
            "gauge",
            "Events the bus refused for good, kept in the store's rejected table.",
            [([], Double(rejected))]
        )
        return text.text
    }
}
