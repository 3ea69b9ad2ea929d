import CoreMetrics
import GridSchema
import Logging
import ServiceLifecycle
import Synchronization
import ZeroMQ

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A subscription that sees every matching event at least once, in sequence order, across
/// restarts of the worker and of the daemon (the ZeroMQ guide's Clone pattern):
///
/// 1. subscribe to the egress first, so nothing published from now on is missed;
/// 2. replay everything after the stored cursor;
/// 3. go live, dropping events at or below the cursor (already handled);
/// 4. when a sequence jumps, or a heartbeat's head is past the cursor, events were missed (the
///    daemon's per-subscriber queue overflowed, or the connection dropped): replay fills the gap.
///
/// With `prefixes` `[""]` the socket subscribes to every topic, so sequences are contiguous and
/// every gap is visible at once. With narrower prefixes (what an access list allows most workers)
/// sequences skip other topics by design, so a jump proves nothing: the socket subscribes to the
/// prefixes' chain instead (``BusProtocol/chainKey(prefixes:)``), whose every copy names the
/// previous event matching them. When that is at or below the cursor, the event is handled from
/// the live stream; otherwise it rings the bell, and events are taken from replay in order (one
/// round trip per gap), which cannot miss one. Prefixes that cannot be chained ring the bell on
/// every event. Heartbeats are subscribed to in every mode. The cursor is
/// saved every `saveEvery` events, on heartbeats and on shutdown; after a crash the events since
/// the last save are handled again, so handlers must be idempotent by event id.
///
/// With `catchUpEvery` n > 1, live events only count: the subscriber catches up (from replay, as
/// one batch, in both modes) once n of them have come in, or at the next heartbeat (every second),
/// whichever is first. For a worker nobody waits on (statistics, the intake's timeline) this trades
/// up to a second of freshness for most of its replays, commits and their writes. It needs no timer
/// of its own, so it holds whatever the worker's clock does (libfaketime's jumps stall libdispatch's
/// timers; the fault suite found it).
public final class DurableSubscriber: Service, CustomStringConvertible, Sendable {
    public typealias Handler = @Sendable (BusEvent) async throws -> Void
    /// Receives events in sequence order, several at a time when they are already waiting (catch-up
    /// and replay): a worker can then commit them in one transaction.
    public typealias BatchHandler = @Sendable ([BusEvent]) async throws -> Void

    public var description: String { "DurableSubscriber(\(name))" }
    public let name: String
    private let endpoints: BusEndpoints
    private let prefixes: [String]
    private let store: any CursorStore
    private let context: ZMQContext
    private let logger: Logger
    private let handler: BatchHandler
    private let maxBatch: Int
    private let lastError = Mutex("")
    private let saveEvery: UInt64
    private let receiveBuffer: Int
    private let receiveHighWaterMark: Int32
    private let catchUpEvery: Int
    /// The chain the socket subscribes to when the prefixes are narrow (nil: everything, or prefixes
    /// that cannot be chained).
    private let chainKey: [UInt8]?
    private let handled: Counter
    private let skipped: Counter
    private let cursorGauge: Gauge

    /// - Parameters:
    ///   - name: identifies the cursor in the store and the subscriber in `gridctl status`.
    ///   - prefixes: topic prefixes to handle (`[""]` for everything); see ``Topic``.
    ///   - saveEvery: save the cursor after this many events (and on every heartbeat).
    ///   - receiveBuffer, receiveHighWaterMark: how much may queue between the daemon and the handler.
    public convenience init(
        name: String,
        endpoints: BusEndpoints,
        prefixes: [String],
        store: any CursorStore,
        context: ZMQContext,
        logger: Logger,
        saveEvery: UInt64 = 500,
        receiveBuffer: Int = 10_000,
        receiveHighWaterMark: Int32 = 100_000,
        handler: @escaping Handler
    ) {
        self.init(
            name: name,
            endpoints: endpoints,
            prefixes: prefixes,
            store: store,
            context: context,
            logger: logger,
            saveEvery: saveEvery,
            receiveBuffer: receiveBuffer,
            receiveHighWaterMark: receiveHighWaterMark,
            maxBatch: 1,
            batchHandler: { events in for event in events { try await handler(event) } }
        )
    }

    /// - Parameters:
    ///   - maxBatch: most events handed to `batchHandler` at once.
    ///   - catchUpEvery: live events that are let gather before they are read together (see the type).
    public init(
        name: String,
        endpoints: BusEndpoints,
        prefixes: [String],
        store: any CursorStore,
        context: ZMQContext,
        logger: Logger,
        saveEvery: UInt64 = 500,
        receiveBuffer: Int = 10_000,
        receiveHighWaterMark: Int32 = 100_000,
        maxBatch: Int,
        catchUpEvery: Int = 1,
        metrics: any MetricsFactory = MetricsSystem.factory,
        batchHandler: @escaping BatchHandler
    ) {
        handled = Counter(label: "gridbus_worker_events_handled_total", dimensions: [("subscription", name)], factory: metrics)
        skipped = Counter(label: "gridbus_worker_events_skipped_total", dimensions: [("subscription", name)], factory: metrics)
        cursorGauge = Gauge(label: "gridbus_worker_cursor_sequence", dimensions: [("subscription", name)], factory: metrics)
        self.name = name
        self.endpoints = endpoints
        self.prefixes = prefixes.isEmpty ? [""] : prefixes
        self.store = store
        self.context = context
        self.logger = logger
        self.handler = batchHandler
        self.maxBatch = max(1, maxBatch)
        self.saveEvery = saveEvery
        self.receiveBuffer = receiveBuffer
        self.receiveHighWaterMark = receiveHighWaterMark
        self.catchUpEvery = max(1, catchUpEvery)
        chainKey = self.prefixes == [""] ? nil : BusProtocol.chainKey(prefixes: self.prefixes)
    }

    /// On the store's thread when it has one (``CursorStore/taskExecutor``): the loop's cursor
    /// saves and its handler's commits then call the store without a hand-off.
    public func run() async throws {
        try await withTaskExecutorPreference(store.taskExecutor) { try await receiveLoop() }
    }

    private func receiveLoop() async throws {
        let egress = endpoints.egress
        let highWaterMark = receiveHighWaterMark
        let credentials = endpoints.credentials
        let socket = try await ZMQAsyncSocket(context: context, type: .xsubscribe, name: "sub-\(name)", capacity: receiveBuffer) { socket in
            try credentials?.apply(to: socket)
            try socket.setReceiveHighWaterMark(highWaterMark)
            try socket.setReconnectInterval(milliseconds: 100, maximum: 2000)
            // Every node of a cluster fans out every event: the copies after the first are dropped
            // by sequence like any event already seen, and a node's loss costs nothing.
            for node in BusEndpoints.list(egress) { try socket.connect(node) }
            return egress
        }
        // Subscribe before replaying: see the type's documentation.
        let subscriptions: [[UInt8]] =
            if !isFiltered { [[]] } else if let chainKey { [chainKey, Self.heartbeatPrefix] } else {
                prefixes.map { Array($0.utf8) } + [Self.heartbeatPrefix]
            }
        for prefix in subscriptions {
            try await socket.send([[1] + prefix])
        }
        let requester = BusRequester(context: context, endpoint: endpoints.replay, credentials: credentials)
        var state = State(cursor: try await waitingForTheStore("reading the cursor", logger: logger) { try await store.cursor(for: name) })
        state.saved = state.cursor
        logger.info("subscriber starting", metadata: ["subscriber": "\(name)", "subscriber.cursor": "\(state.cursor)"])
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                do {
                    try await catchUp(&state, requester: requester)
                    // A chain's batch may read one message ahead that it cannot take: it is handled next.
                    var readAhead: ZMQMessage?
                    while true {
                        var next = readAhead.take()
                        if next == nil { next = await socket.receive() }
                        guard let message = next else { break }
                        readAhead = try await receive(message.frames, state: &state, requester: requester, socket: socket)
                    }
                } catch is CancellationError {
                } catch {
                    logger.error("subscriber stopped", metadata: ["subscriber": "\(name)", "error": "\(error)"])
                }
            } onCancel: {
                socket.finishReceiving()
            }
        } onGracefulShutdown: {
            socket.finishReceiving()
        }
        try? await saveCursor(&state)
        // Tell the daemon this subscriber left on purpose, so that it is not reported as lagging.
        try? await socket.send([CursorReport(subscriber: name, cursor: state.cursor, closing: true).frame()])
        try? await Task.sleep(for: .milliseconds(20))  // linger 0: give the I/O thread a moment to flush it
        await socket.close()
        await requester.close()
        logger.info("subscriber stopped", metadata: ["subscriber": "\(name)", "subscriber.cursor": "\(state.cursor)"])
    }

    private struct State {
        var cursor: UInt64
        var saved: UInt64 = 0
        var warnedAhead = false
        /// Live events let gather since the last catch-up (``catchUpEvery``).
        var gathered = 0
    }

    /// Handles one live message; returns a message it read ahead and left for the caller.
    private func receive(_ frames: [[UInt8]], state: inout State, requester: BusRequester, socket: ZMQAsyncSocket) async throws -> ZMQMessage? {
        if let chainKey, frames.first == chainKey { return try await receiveChained(frames, state: &state, requester: requester, socket: socket) }
        guard frames.count == 3, let sequence = BusProtocol.decodeInteger(frames[1]) else {
            logger.warning("ignored a malformed egress message", metadata: ["subscriber": "\(name)", "frames": "\(frames.count)"])
            return nil
        }
        if frames[0].starts(with: Self.heartbeatPrefix) {
            if sequence > state.cursor {
                // Filtered: events on other topics moved the head; replay settles what concerns us.
                // Gathering: the events were seen, and left for now.
                if !isFiltered && state.gathered == 0 {
                    logger.warning(
                        "heartbeat shows events this subscriber missed; catching up through replay",
                        metadata: ["subscriber": "\(name)", "subscriber.cursor": "\(state.cursor)", "bus.head": "\(sequence)"]
                    )
                }
                try await catchUp(&state, requester: requester)
            }
            try await saveCursor(&state)
            try await socket.send([CursorReport(subscriber: name, cursor: state.cursor).frame()])
            return nil
        }
        if sequence <= state.cursor { return nil }  // already handled (replay overlapped live)
        if try await gather(&state, requester: requester) { return nil }
        if isFiltered {
            // The bell: this event and anything before it that was missed come from replay, in order.
            try await catchUp(&state, requester: requester)
            return nil
        }
        if sequence > state.cursor + 1 {
            logger.warning(
                "missed live events; catching up through replay",
                metadata: ["subscriber": "\(name)", "gap.from": "\(state.cursor + 1)", "gap.to": "\(sequence - 1)"]
            )
            try await catchUp(&state, requester: requester)
            if sequence <= state.cursor { return nil }
        }
        let topic = frames[0]
        if prefixes.contains(where: { topic.starts(with: $0.utf8) }) {
            try await deliver([BusEvent(sequence: sequence, topic: String(decoding: topic, as: UTF8.self), bytes: frames[2])])
        }
        state.cursor = sequence
        if state.cursor - state.saved >= saveEvery { try await saveCursor(&state) }
        return nil
    }

    /// A copy on this subscriber's chain: `chain topic sequence previous event`. Copies already
    /// waiting that continue the chain are taken with it as one batch, so that a subscriber that
    /// fell behind catches up in transactions of many events, as it would from replay. Returns the
    /// first waiting message that does not continue the chain, for the caller to handle next.
    private func receiveChained(_ frames: [[UInt8]], state: inout State, requester: BusRequester, socket: ZMQAsyncSocket) async throws -> ZMQMessage?
    {
        guard let copy = ChainCopy(frames) else {
            logger.warning("ignored a malformed chain message", metadata: ["subscriber": "\(name)", "frames": "\(frames.count)"])
            return nil
        }
        if copy.event.sequence <= state.cursor { return nil }  // already handled (replay overlapped live)
        if try await gather(&state, requester: requester) { return nil }
        // Every event this subscriber wants up to the cursor is handled; when the chain's previous
        // one is among them, none came between, and this one is next.
        guard copy.previous <= state.cursor else {
            try await catchUp(&state, requester: requester)
            return nil
        }
        var batch = [copy.event]
        var readAhead: ZMQMessage?
        while batch.count < maxBatch, let message = socket.receiveIfAvailable() {
            guard message.frames.first == chainKey, let next = ChainCopy(message.frames), next.previous == batch.last!.sequence else {
                readAhead = message
                break
            }
            batch.append(next.event)
        }
        try await deliver(batch)
        state.cursor = batch.last!.sequence
        if state.cursor - state.saved >= saveEvery { try await saveCursor(&state) }
        return readAhead
    }

    /// The frames of a chain's copy, read.
    private struct ChainCopy {
        let event: BusEvent
        let previous: UInt64

        init?(_ frames: [[UInt8]]) {
            guard frames.count == 5, let sequence = BusProtocol.decodeInteger(frames[2]), let previous = BusProtocol.decodeInteger(frames[3]),
                previous < sequence
            else { return nil }
            event = BusEvent(sequence: sequence, topic: String(decoding: frames[1], as: UTF8.self), bytes: frames[4])
            self.previous = previous
        }
    }

    /// With `catchUpEvery` > 1 a live event only counts: the burst gathers until this many more
    /// events, or the next heartbeat, ring the bell. True when the event was counted.
    private func gather(_ state: inout State, requester: BusRequester) async throws -> Bool {
        guard catchUpEvery > 1 else { return false }
        state.gathered += 1
        if state.gathered >= catchUpEvery { try await catchUp(&state, requester: requester) }
        return true
    }

    /// Replays from the cursor until caught up with the head; waits and retries while the daemon is unreachable.
    private func catchUp(_ state: inout State, requester: BusRequester) async throws {
        state.gathered = 0
        var delay = Duration.milliseconds(200)
        while true {
            try Task.checkCancellation()
            if Task.isShuttingDownGracefully { throw CancellationError() }
            let batch: BusRequester.ReplayBatch
            do {
                batch = try await requester.replay(after: state.cursor, prefixes: prefixes)
            } catch let error as BusClientError {
                logger.warning("replay failed; retrying", metadata: ["subscriber": "\(name)", "error": "\(error)", "retry.in": "\(delay)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
                continue
            }
            // Live fan-out may trail replay, but the journal's head never goes back: if it is behind
            // the cursor, the journal was replaced and this cursor means nothing there.
            if batch.head < state.cursor && !state.warnedAhead {
                state.warnedAhead = true
                logger.error(
                    "the journal's head is behind this subscriber's cursor: was the journal replaced?",
                    metadata: ["subscriber": "\(name)", "subscriber.cursor": "\(state.cursor)", "journal.head": "\(batch.head)"]
                )
            }
            if batch.tail > state.cursor + 1, batch.events.first.map({ $0.sequence > state.cursor + 1 }) ?? false {
                logger.error(
                    "events older than the journal's tail were removed by retention before this subscriber read them",
                    metadata: ["subscriber": "\(name)", "subscriber.cursor": "\(state.cursor)", "journal.tail": "\(batch.tail)"]
                )
            }
            let fresh = batch.events.filter { $0.sequence > state.cursor }
            for start in stride(from: 0, to: fresh.count, by: maxBatch) {
                let chunk = Array(fresh[start..<min(start + maxBatch, fresh.count)])
                try await deliver(chunk)
                state.cursor = chunk.last!.sequence
            }
            state.cursor = max(state.cursor, batch.next)
            // Saved as on the live path (every `saveEvery` events, and on every heartbeat): a
            // filtered subscriber catches up once per live event, and a save per event was a
            // durable commit per event. After a crash, what was handled since is handled again.
            if state.cursor - state.saved >= saveEvery { try await saveCursor(&state) }
            if batch.isComplete { return }
        }
    }

    /// Calls the handler; retries a failing batch twice, then hands its events over one by one with
    /// the same retries, logging and skipping an event that still fails, so that one poisonous event
    /// cannot stop the worker (nor take its neighbours down with it).
    private func deliver(_ events: [BusEvent]) async throws {
        if try await attempt(events) { return }
        guard events.count > 1 else { return skip(events[0]) }
        for event in events where !(try await attempt([event])) { skip(event) }
    }

    /// Three tries; true when one succeeded.
    private func attempt(_ events: [BusEvent]) async throws -> Bool {
        for attempt in 1...3 {
            do {
                // A store that cannot be reached is not the events' fault: it is waited for, however
                // long, and not counted as a try (three would skip every event of an outage).
                try await waitingForTheStore("handling events", logger: logger) { try await handler(events) }
                handled.increment(by: events.count)
                return true
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if attempt == 3 {
                    if events.count == 1 { lastError.withLock { $0 = "\(error)" } }
                    return false
                }
                try await Task.sleep(for: .milliseconds(100 * attempt * attempt))
            }
        }
        return false
    }

    private func skip(_ event: BusEvent) {
        skipped.increment()
        logger.error(
            "handler failed three times; event skipped",
            metadata: [
                "subscriber": "\(name)", "event.sequence": "\(event.sequence)", "event.topic": "\(event.topic)",
                "error": "\(lastError.withLock { $0 })",
            ]
        )
    }

    private func saveCursor(_ state: inout State) async throws {
        guard state.cursor != state.saved else { return }
        let cursor = state.cursor
        try await waitingForTheStore("saving the cursor", logger: logger) { try await store.saveCursor(cursor, for: name) }
        state.saved = state.cursor
        cursorGauge.record(state.cursor)
    }

    private var isFiltered: Bool { prefixes != [""] }

    static let heartbeatPrefix = Array(Topic.prefix(forType: .busHeartbeat).utf8)
}
