import CoreMetrics
import GridJSON
import GridSchema
import GridStore
import Logging
import ServiceLifecycle
import ZeroMQ

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Delivers a worker's durable outbox to gridbusd: events committed to the store (by
/// ``WorkerStore/write(durable:_:)`` or ``publish(_:)``) wake it, and ``run()`` sends them, keeping
/// each event until the bus ACKs it. Unanswered events are sent again with the same id after `ackTimeout` (the bus
/// de-duplicates by `(source, id)`), so a crash of the worker or of the daemon loses nothing.
/// An event the bus refuses for good (invalid, unknown type…) moves to the store's rejected table.
///
/// With a cluster's ingress endpoints (a comma-separated `bus.ingress`), it keeps a connection to
/// each and sends to one, the leader as far as it knows: `NACK not-leader` names the leader, and
/// silence past `ackTimeout` moves it to the next node; what was in flight goes again, with the
/// same ids, to the new target.
public final class ReliablePublisher: Service, CustomStringConvertible, Sendable {
    public struct Configuration: Sendable {
        /// Events sent and not yet answered, at most.
        public var window = 2000
        /// Send again when no answer came within this time.
        public var ackTimeout: Duration = .seconds(3)
        /// First delay after a retryable NACK (overloaded, storage); doubles up to `maximumBackoff`.
        public var backoff: Duration = .milliseconds(100)
        public var maximumBackoff: Duration = .seconds(5)
        /// Events sent together in one PUB message, at most (see protocol.md, "Many events in one
        /// PUB"): a backlog drains with one message and one ACK per group instead of per event.
        /// A gridbusd older than that protocol answers such a PUB `malformed`; the publisher then
        /// sends one event per PUB from there on, and nothing is refused for it.
        public var eventsPerPublish = 64
        public init() {}
    }

    public let description = "ReliablePublisher"
    private let store: WorkerStore
    private let endpoints: [String]
    private let credentials: BusCredentials?
    private let context: ZMQContext
    private let configuration: Configuration
    private let logger: Logger
    private let signals: BoundedBuffer<Signal>
    private let acknowledged: Counter
    private let resent: Counter
    private let refusedForGood: Counter

    private enum Signal: Sendable {
        case work
        case tick
        /// An answer, and the index of the endpoint it came from.
        case answer(ZMQMessage, from: Int)
    }

    /// Which endpoint the events go to, and when it last answered.
    private struct Target {
        let count: Int
        var current = 0
        var lastAnswer = ContinuousClock.now

        /// Moves to `index` (or the next one); returns whether it moved.
        mutating func move(to index: Int? = nil) -> Bool {
            let next = index ?? (current + 1) % count
            guard next != current else { return false }
            current = next
            lastAnswer = .now
            return true
        }
    }

    private struct InFlight {
        var bytes: [UInt8]
        var sentAt: ContinuousClock.Instant
        var attempts: Int
        var retryAt: ContinuousClock.Instant?
        /// Last sent in a PUB with other events (to be sent again alone if the bus is an older one).
        var sentWithOthers = false
        /// PUBs with other events that carried this one first and got no answer yet. An older bus
        /// answers such a PUB with a `malformed` NACK by its first token, also after the event went
        /// out again alone: such a NACK is about the company, not the event.
        var unansweredCompanySends = 0
    }

    public init(
        store: WorkerStore,
        endpoint: String,
        credentials: BusCredentials? = nil,
        context: ZMQContext,
        configuration: Configuration = .init(),
        metrics: any MetricsFactory = MetricsSystem.factory,
        logger: Logger
    ) {
        acknowledged = Counter(label: "gridbus_worker_events_acked_total", factory: metrics)
        resent = Counter(label: "gridbus_worker_events_resent_total", factory: metrics)
        refusedForGood = Counter(label: "gridbus_worker_events_rejected_total", factory: metrics)
        self.credentials = credentials
        self.store = store
        self.endpoints = BusEndpoints.list(endpoint)
        self.context = context
        self.configuration = configuration
        self.logger = logger
        let signals = BoundedBuffer<Signal>(capacity: configuration.window * 2 + 64)
        self.signals = signals
        store.observeOutbox { _ = signals.tryPush(.work) }
    }

    /// A worker's publisher: to the bus's ingress, with the bus's credentials.
    public convenience init(
        store: WorkerStore,
        bus: BusEndpoints,
        context: ZMQContext,
        metrics: any MetricsFactory = MetricsSystem.factory,
        logger: Logger
    ) {
        self.init(store: store, endpoint: bus.ingress, credentials: bus.credentials, context: context, metrics: metrics, logger: logger)
    }

    /// Validates and stores events for delivery, all or none.
    /// - Throws: ``EnvelopeError`` for an event the bus would refuse, or the store's error.
    public func publish(_ events: [CloudEvent]) async throws {
        var encoded: [(id: String, bytes: [UInt8])] = []
        for event in events {
            try event.validate()
            encoded.append((event.id, try event.jsonBytes()))
        }
        _ = try await store.enqueue(encoded, nowMilliseconds: Date().millisecondsSince1970)
    }

    public func publish(_ event: CloudEvent) async throws { try await publish([event]) }

    /// Events in the outbox (for tests, status and shutdown reports): those waiting for an ACK, and
    /// those acknowledged since the last tick, removed with the next (``removalBatch``).
    public func undeliveredCount() async throws -> Int { try await store.outboxCount() }

    /// On the store's thread (``WorkerStore/taskExecutor``): the delivery loop reads and clears
    /// the outbox without a hand-off.
    public func run() async throws {
        try await withTaskExecutorPreference(store.taskExecutor) { try await deliveryLoop() }
    }

    private func deliveryLoop() async throws {
        let credentials = self.credentials
        var sockets: [ZMQAsyncSocket] = []
        for (index, endpoint) in endpoints.enumerated() {
            sockets.append(
                try await ZMQAsyncSocket(context: context, type: .dealer, name: "publisher-\(index)", capacity: configuration.window + 64) { socket in
                    try socket.setReceiveHighWaterMark(0)
                    try socket.setSendHighWaterMark(0)
                    try socket.setReconnectInterval(milliseconds: 100, maximum: 2000)
                    try credentials?.apply(to: socket)
                    try socket.connect(endpoint)
                    return endpoint
                }
            )
        }
        let signals = self.signals
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                for (index, socket) in sockets.enumerated() {
                    group.addTask {
                        while let message = await socket.receive() { _ = await signals.push(.answer(message, from: index)) }
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(100))
                        _ = signals.tryPush(.tick)
                    }
                }
                try await deliver(sockets: sockets)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            signals.close()
        }
        for socket in sockets { await socket.close() }
        let left = (try? await store.outboxCount()) ?? -1
        if left > 0 { logger.info("publisher stopped; undelivered events stay in the outbox", metadata: ["outbox.events": "\(left)"]) }
    }

    /// Delivered events are removed from the outbox in one commit per tick (100 ms) or per this
    /// many, not one per answer: at a few hundred events a second that was a commit and a store
    /// call for nearly every event. Until then a crash sends them again, and the bus answers with
    /// their first sequence, as after a power loss.
    static let removalBatch = 512

    private func deliver(sockets: [ZMQAsyncSocket]) async throws {
        var inFlight: [Int64: InFlight] = [:]
        var lastFetched: Int64 = 0
        var eventsPerPublish = min(max(configuration.eventsPerPublish, 1), BusProtocol.maximumEventsPerPublish)
        var target = Target(count: sockets.count)
        // Rows after `lastFetched` may be waiting: at the start, after a commit (`work`), on each
        // tick, and while the window was too small for all of them. Answers alone add none.
        var mayHaveMore = true
        var delivered: [Int64] = []
        while true {
            // Fill the window from the outbox.
            if mayHaveMore, inFlight.count < configuration.window {
                let limit = configuration.window - inFlight.count
                let rows = try await waitingForTheStore("reading the outbox", logger: logger) {
                    try await store.pending(after: lastFetched, limit: limit)
                }
                mayHaveMore = rows.count == limit
                for row in rows { inFlight[row.rowID] = InFlight(bytes: row.bytes, sentAt: .now, attempts: 1) }
                try await send(rows.map(\.rowID), of: &inFlight, eventsPerPublish: eventsPerPublish, socket: sockets[target.current])
                lastFetched = rows.last?.rowID ?? lastFetched
            }
            guard let first = await signals.pop() else {
                try await waitingForTheStore("removing delivered events", logger: logger) { [delivered] in try await store.delivered(delivered) }
                return
            }
            var ticked = false
            for signal in [first] + signals.popAvailable() {
                switch signal {
                case .work: mayHaveMore = true
                case .tick:
                    mayHaveMore = true
                    ticked = true
                case .answer(let message, let from):
                    if from == target.current { target.lastAnswer = .now }
                    try await handle(
                        message.frames,
                        from: from,
                        target: &target,
                        inFlight: &inFlight,
                        delivered: &delivered,
                        eventsPerPublish: &eventsPerPublish
                    )
                }
            }
            if !delivered.isEmpty, ticked || delivered.count >= Self.removalBatch {
                try await waitingForTheStore("removing delivered events", logger: logger) { [delivered] in try await store.delivered(delivered) }
                delivered.removeAll(keepingCapacity: true)
            }
            try await resendDue(&inFlight, target: &target, eventsPerPublish: eventsPerPublish, sockets: sockets)
        }
    }

    /// Sends these in-flight events, `eventsPerPublish` to a PUB, in row order.
    private func send(_ rowIDs: [Int64], of inFlight: inout [Int64: InFlight], eventsPerPublish: Int, socket: ZMQAsyncSocket) async throws {
        for start in stride(from: 0, to: rowIDs.count, by: eventsPerPublish) {
            let group = rowIDs[start..<min(start + eventsPerPublish, rowIDs.count)]
            var frames: [[UInt8]] = [BusProtocol.publish]
            frames.reserveCapacity(1 + group.count * 2)
            var leader: Int64?
            for rowID in group {
                guard let entry = inFlight[rowID] else { continue }
                leader = leader ?? rowID
                frames.append(token(rowID))
                frames.append(entry.bytes)
                inFlight[rowID]?.sentWithOthers = group.count > 1
            }
            if group.count > 1, let leader { inFlight[leader]?.unansweredCompanySends += 1 }
            try await socket.send(frames)
        }
    }

    /// An answer: `ACK token sequence [token sequence …]` (the events of one PUB), or one NACK.
    private func handle(
        _ frames: [[UInt8]],
        from: Int,
        target: inout Target,
        inFlight: inout [Int64: InFlight],
        delivered: inout [Int64],
        eventsPerPublish: inout Int
    ) async throws {
        guard frames.count >= 2, let rowID = BusProtocol.decodeInteger(frames[1]).map({ Int64(bitPattern: $0) }) else {
            logger.warning("ignored a malformed answer from the bus")
            return
        }
        if frames[0] == BusProtocol.ack {
            for index in stride(from: 1, to: frames.count, by: 2) {
                guard let acked = BusProtocol.decodeInteger(frames[index]).map({ Int64(bitPattern: $0) }) else { continue }
                // Absent: an answer to a resend already settled.
                if inFlight.removeValue(forKey: acked) != nil {
                    delivered.append(acked)
                    acknowledged.increment()
                }
            }
            return
        }
        guard var entry = inFlight[rowID] else { return }  // an answer to a resend already settled
        switch frames[0] {
        case BusProtocol.nack where frames.count == 4:
            let code = String(decoding: frames[2], as: UTF8.self)
            let reason = String(decoding: frames[3], as: UTF8.self)
            if code == BusProtocol.Refusal.malformed.rawValue, entry.unansweredCompanySends > 0 {
                // A bus that predates many events per PUB refuses the whole message by its first
                // token and answers nothing else. The event itself may be fine: send everything
                // that went out in company again, one per PUB, and let a refusal of it alone count.
                // (The answer may come after this event already went out again alone.)
                inFlight[rowID]?.unansweredCompanySends -= 1
                if eventsPerPublish > 1 {
                    logger.warning(
                        "the bus refused a PUB of several events as malformed (a gridbusd older than that protocol?); sending one event per PUB",
                        metadata: ["nack.reason": "\(reason)"]
                    )
                }
                eventsPerPublish = 1
                let now = ContinuousClock.now
                for (other, candidate) in inFlight where candidate.sentWithOthers { inFlight[other]?.retryAt = now }
                return
            }
            if code == BusProtocol.Refusal.notLeader.rawValue {
                // Sent to a node that does not lead. From the current target, go where it says (or
                // on to the next node while no leader is known); everything in flight goes again.
                if from == target.current {
                    let named = endpoints.firstIndex(of: reason)
                    if target.move(to: named) {
                        logger.notice(
                            "the bus node does not lead; publishing to another",
                            metadata: ["bus.leader": "\(reason)", "bus.ingress": "\(endpoints[target.current])"]
                        )
                    }
                    let retryAt: ContinuousClock.Instant = reason.isEmpty ? .now + configuration.backoff : .now
                    for rowID in inFlight.keys { inFlight[rowID]?.retryAt = retryAt }
                } else {
                    inFlight[rowID]?.retryAt = .now
                }
                return
            }
            if BusProtocol.Refusal(rawValue: code)?.isRetryable == true {
                var delay = configuration.backoff
                for _ in 1..<min(entry.attempts, 16) { delay = min(delay * 2, configuration.maximumBackoff) }
                entry.retryAt = .now + delay
                inFlight[rowID] = entry
                logger.debug("bus asked to retry", metadata: ["nack.code": "\(code)", "retry.in": "\(delay)"])
            } else {
                inFlight[rowID] = nil
                try await waitingForTheStore("keeping a refused event", logger: logger) {
                    try await store.rejected(rowID, code: code, reason: reason, nowMilliseconds: Date().millisecondsSince1970)
                }
                refusedForGood.increment()
                logger.error(
                    "bus refused an event for good; kept in the rejected table",
                    metadata: ["nack.code": "\(code)", "nack.reason": "\(reason)"]
                )
            }
        default:
            logger.warning("ignored an unknown answer from the bus")
        }
    }

    private func resendDue(
        _ inFlight: inout [Int64: InFlight],
        target: inout Target,
        eventsPerPublish: Int,
        sockets: [ZMQAsyncSocket]
    ) async throws {
        let now = ContinuousClock.now
        // Silence: the current node has not answered for a whole ack timeout while events wait.
        // It or its machine is gone, or cut off: try the next node.
        if target.count > 1, now - target.lastAnswer >= configuration.ackTimeout,
            inFlight.values.contains(where: { now - $0.sentAt >= configuration.ackTimeout })
        {
            _ = target.move()
            logger.warning("the bus node is silent; publishing to the next", metadata: ["bus.ingress": "\(endpoints[target.current])"])
        }
        var due: [Int64] = []
        for (rowID, var entry) in inFlight {
            guard entry.retryAt.map({ now >= $0 }) ?? (now - entry.sentAt >= configuration.ackTimeout) else { continue }
            entry.retryAt = nil
            entry.sentAt = now
            entry.attempts += 1
            inFlight[rowID] = entry
            due.append(rowID)
        }
        guard !due.isEmpty else { return }
        try await send(due.sorted(), of: &inFlight, eventsPerPublish: eventsPerPublish, socket: sockets[target.current])
        resent.increment(by: due.count)
        logger.debug("sent unanswered events again", metadata: ["events": "\(due.count)"])
    }

    private func token(_ rowID: Int64) -> [UInt8] { BusProtocol.encode(UInt64(bitPattern: rowID)) }
}
