import Foundation
import GridMetrics
import GridPostgres
import GridStore
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// One active instance of a worker over a shared PostgreSQL store; the others wait as standbys.
///
/// An instance starts as a standby: it builds nothing and writes nothing, and looks at the
/// store's lease (``PostgresLease``, a row in the worker's schema) every quarter of `seconds` (at
/// most every 0.5 s) until it can take it, which it can once the active instance stopped renewing
/// it: after a `kill -9` of the active instance, within `seconds` and a look. Then it starts the
/// worker as any restart does, from the shared store (the outbox, cursors, cases and claims are
/// all there), and renews the lease every quarter of `seconds` (``run()``). Every write
/// transaction of its store first checks the lease's epoch (the store's fence), so an instance
/// that lost the lease while paused writes nothing, even before it knows.
///
/// An active instance that loses the lease (another took it, or it could not renew it for a whole
/// lease) stops: ``run()`` throws ``LeaseLost``, the process exits 1 and its supervisor starts it
/// again, as a standby. A graceful stop hands the lease back, and a standby takes it at its next look.
public final class WorkerLease: Service, Sendable {
    private let lease: PostgresLease
    private let advertise: String
    private let session: Session
    private let epoch = Mutex<Int64>(-1)
    /// Where the active instance is while this one waits (nil: none live).
    private let activeElsewhere = Mutex<String?>(nil)
    private let executor = ThreadExecutor(name: "worker-lease")
    private let logger: Logger

    /// The lease's own connection, used only from the lease's thread.
    private final class Session: @unchecked Sendable {
        let link: PostgresLink
        init(link: PostgresLink) { self.link = link }
    }

    /// - Parameters:
    ///   - advertise: where clients reach this instance's HTTP API, for a standby's answers.
    ///   - seconds: how long the lease lasts unrenewed (`store.lease-timeout`).
    public init(url: PostgresURL, password: String?, schema: String, advertise: String, seconds: Double, logger: Logger) {
        lease = PostgresLease(
            schema: schema,
            holder: "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UUID().uuidString.prefix(8))",
            seconds: seconds
        )
        let link = PostgresLink(url: url, password: password, logger: logger)
        // Past a whole lease unanswered, this instance can no longer know whether it is active.
        link.answerTimeout = seconds
        session = Session(link: link)
        self.advertise = advertise
        self.logger = logger
    }

    deinit { executor.shutdown() }

    /// The help text of the lease's metrics.
    public static let metricsHelp = [
        "gridbus_worker_active": "1 once this instance holds its store's lease and runs the worker; 0 while it waits as a standby.",
        "gridbus_worker_lease_epoch": "The epoch of the store's lease this instance holds: one more at every takeover.",
        "gridbus_worker_takeovers_total": "Times this instance took its store's lease after another instance had held it.",
    ]

    /// The statement that fences this instance's writes: a row only while it holds the lease.
    public var fence: String { lease.fence(epoch.withLock { $0 }) }

    /// The epoch of the lease this instance holds; -1 while it waits.
    public var heldEpoch: Int64 { epoch.withLock { $0 } }

    /// Whether this instance waits, and where the active one is (``StandbyMiddleware``).
    public var standbyState: @Sendable () -> (isStandby: Bool, active: String?) {
        { [self] in (epoch.withLock { $0 } < 0, activeElsewhere.withLock { $0 }) }
    }

    /// Waits as a standby until this instance holds the lease, calling `waiting` once it finds
    /// another instance active. Throws `CancellationError` when cancelled first (a stop while waiting).
    public func acquire(metrics: DescribedMetricsFactory, waiting: @Sendable () -> Void = {}) async throws {
        metrics.describe(Self.metricsHelp)
        let active = Gauge(label: "gridbus_worker_active", factory: metrics)
        active.record(0)
        let takeovers = Counter(label: "gridbus_worker_takeovers_total", factory: metrics)  // at 0 until the first
        let look = Duration.milliseconds(Int(1000 * min(lease.seconds / 4, 0.5)))
        var announced = false
        var heldBefore = false
        var prepared = false
        try await withTaskExecutorPreference(executor) {
            while true {
                try Task.checkCancellation()
                do {
                    if !prepared {
                        try lease.prepare(on: session.link)
                        prepared = true
                    }
                    if let held = try lease.claim(epoch: -1, advertise: advertise, on: session.link) {
                        epoch.withLock { $0 = held }
                        activeElsewhere.withLock { $0 = nil }
                        active.record(1)
                        Gauge(label: "gridbus_worker_lease_epoch", factory: metrics).record(held)
                        if heldBefore { takeovers.increment() }
                        logger.notice("store lease taken: this instance is active", metadata: ["store.epoch": "\(held)"])
                        return
                    }
                    let holder = try lease.holderNow(on: session.link)
                    heldBefore = true
                    activeElsewhere.withLock { $0 = holder.live && !holder.advertise.isEmpty ? holder.advertise : nil }
                    if !announced {
                        logger.notice("another instance is active: this one waits as a standby", metadata: ["store.active": "\(holder.advertise)"])
                        waiting()
                        announced = true
                    }
                } catch {
                    activeElsewhere.withLock { $0 = nil }
                    logger.warning("the store's lease cannot be read; trying again", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: look)
            }
        }
    }

    /// Renews the lease while the worker runs; hands it back at a graceful stop.
    public func run() async throws {
        try await withTaskExecutorPreference(executor) {
            try await cancelWhenGracefulShutdown { try await self.renew() }
        }
    }

    private func renew() async throws {
        let held = epoch.withLock { $0 }
        guard held >= 0 else { throw LeaseLost() }
        var renewed = ContinuousClock.now
        defer {
            lease.handBack(epoch: held, on: session.link)
            session.link.close()
            logger.notice("store lease handed back: a standby may take over at once", metadata: ["store.epoch": "\(held)"])
        }
        while !Task.isCancelled {
            do {
                guard try lease.claim(epoch: held, advertise: advertise, on: session.link) == held else {
                    logger.error("store lease taken by another instance: this one stops", metadata: ["store.epoch": "\(held)"])
                    throw LeaseLost()
                }
                renewed = .now
            } catch let error as PostgresLinkError {
                guard ContinuousClock.now - renewed < .milliseconds(Int(lease.seconds * 1000)) else {
                    logger.error("store lease not renewed for a whole lease: this instance stops", metadata: ["error": "\(error)"])
                    throw LeaseLost()
                }
            }
            try? await Task.sleep(for: .milliseconds(Int(1000 * lease.seconds / 4)))
        }
    }
}
