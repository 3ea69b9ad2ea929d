import Foundation
import GridBusClient
import GridBusDaemon
import GridBusTestSupport
import GridSchema
import GridStore
import ServiceLifecycle
import Synchronization
import Testing
import ZeroMQ

/// What a handler saw, in order.
final class Seen: Sendable {
    private let events = Mutex<[BusEvent]>([])
    func append(_ event: BusEvent) { events.withLock { $0.append(event) } }
    var sequences: [UInt64] { events.withLock { $0.map(\.sequence) } }
    var count: Int { events.withLock { $0.count } }
}

/// A store of its own for a test, in a SQLite file or a PostgreSQL database of the shared test server.
func temporaryStore(engine: StoreEngine = .sqlite) throws -> WorkerStore {
    try WorkerStore(testStore(TemporaryFiles.store("worker"), engine: engine, schema: "worker"))
}

/// Runs services until `body` returns, then shuts them down gracefully.
func running<T: Sendable>(_ services: [any Service], _ body: () async throws -> T) async throws -> T {
    let group = ServiceGroup(services: services, logger: TestBus.logger("services"))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let result = try await body()
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return result
    }
}

func incident(_ n: Int, padding: Int = 0) throws -> CloudEvent {
    try CloudEvent(
        id: "evt-\(n)",
        source: "runtime-test",
        payload: IncidentAcknowledged(incidentId: "inc-\(n)", by: "m-1", note: padding > 0 ? String(repeating: "x", count: padding) : nil),
        grid: "G-\(n % 4)"
    )
}

@Suite(.timeLimit(.minutes(2)))
struct WorkerRuntimeTests {
    @Test(arguments: StoreEngine.allCases) func publishedEventsReachADurableSubscriberInOrder(engine: StoreEngine) async throws {
        try await withTestBus { bus in
            let seen = Seen()
            let subscriber = DurableSubscriber(
                name: "order",
                endpoints: bus.endpoints,
                prefixes: ["incident.acknowledged/G-1"],
                store: try temporaryStore(engine: engine),
                context: bus.context,
                logger: TestBus.logger()
            ) { seen.append($0) }
            let store = try temporaryStore(engine: engine)
            let publisher = ReliablePublisher(store: store, endpoint: bus.endpoints.ingress, context: bus.context, logger: TestBus.logger())
            try await running([subscriber, publisher]) {
                for start in stride(from: 0, to: 4000, by: 500) { try await publisher.publish(try (start..<start + 500).map { try incident($0) }) }
                try await expectEventually(timeout: .seconds(60)) { seen.count == 1000 }
                // The subscriber hears its quarter before the bus has acknowledged all 4,000 (a
                // loaded machine showed it): the outbox empties once every ACK is in.
                try await expectEventually(timeout: .seconds(60)) { try await store.outboxCount() == 0 }
            }
            #expect(seen.sequences == seen.sequences.sorted())
            #expect(Set(seen.sequences).count == 1000)
        }
    }

    /// With the daemon down, publishes stay in the outbox; once it is up, they are delivered once.
    @Test(arguments: StoreEngine.allCases) func theOutboxKeepsEventsUntilTheDaemonIsBack(engine: StoreEngine) async throws {
        let port = try freePort()
        let store = try temporaryStore(engine: engine)
        let context = ZMQContext()
        let publisher = ReliablePublisher(store: store, endpoint: "tcp://127.0.0.1:\(port)", context: context, logger: TestBus.logger())
        try await running([publisher]) {
            try await publisher.publish(try (0..<50).map { try incident($0) })
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await store.outboxCount() == 50)
            try await withTestBus(configure: { $0.ingressEndpoint = "tcp://127.0.0.1:\(port)" }) { bus in
                try await expectEventually { try await store.outboxCount() == 0 }
                let status = try await BusRequester(context: bus.context, endpoint: bus.endpoints.replay).status()
                #expect(status.head == 50)
            }
        }
    }

    @Test(arguments: StoreEngine.allCases) func anEventTheBusRefusesForGoodMovesToTheRejectedTable(engine: StoreEngine) async throws {
        try await withTestBus { bus in
            let store = try temporaryStore(engine: engine)
            let publisher = ReliablePublisher(store: store, endpoint: bus.endpoints.ingress, context: bus.context, logger: TestBus.logger())
            try await running([publisher]) {
                // Valid CloudEvents, but heartbeats are the daemon's own: the bus NACKs them `invalid`.
                try await publisher.publish(try CloudEvent(source: "s", payload: BusHeartbeat(head: 1, tail: 1)))
                try await publisher.publish(try incident(1))
                try await expectEventually { try await store.outboxCount() == 0 }
            }
            #expect(try await store.rejectedCount() == 1)
            #expect(try await BusRequester(context: bus.context, endpoint: bus.endpoints.replay).ping() == 1)
        }
    }

    @Test(arguments: StoreEngine.allCases) func aRestartedSubscriberResumesFromItsCursor(engine: StoreEngine) async throws {
        try await withTestBus { bus in
            let store = try temporaryStore(engine: engine)
            let first = Seen()
            let publisher = DirectPublisher(context: bus.context, endpoint: bus.endpoints.ingress)
            for n in 0..<100 { _ = try await publisher.publish(try incident(n)) }
            try await running([
                DurableSubscriber(
                    name: "resume",
                    endpoints: bus.endpoints,
                    prefixes: [],
                    store: store,
                    context: bus.context,
                    logger: TestBus.logger()
                ) { first.append($0) }
            ]) {
                try await expectEventually { first.count == 100 }
            }
            for n in 100..<150 { _ = try await publisher.publish(try incident(n)) }
            let second = Seen()
            try await running([
                DurableSubscriber(
                    name: "resume",
                    endpoints: bus.endpoints,
                    prefixes: [],
                    store: store,
                    context: bus.context,
                    logger: TestBus.logger()
                ) { second.append($0) }
            ]) {
                try await expectEventually { second.count == 50 }
                try await Task.sleep(for: .milliseconds(300))  // nothing more arrives
            }
            #expect(first.sequences == Array(1...100))
            #expect(second.sequences == Array(101...150))
            await publisher.close()
        }
    }

    /// A subscriber that stops reading makes the daemon drop its live events (bounded queues);
    /// it notices the gap (from the sequences, or with a narrow prefix from its chain) and fills it
    /// through replay: nothing is missed or doubled.
    @Test(arguments: [[], ["incident."]])
    func aStalledSubscriberRecoversThroughReplay(prefixes: [String]) async throws {
        try await withTestBus(configure: { $0.egressHighWaterMark = 20 }) { bus in
            let gate = BoundedBuffer<Bool>(capacity: 1)
            let seen = Seen()
            let subscriber = DurableSubscriber(
                name: "stalled",
                endpoints: bus.endpoints,
                prefixes: prefixes,
                store: try temporaryStore(),
                context: bus.context,
                logger: TestBus.logger(),
                receiveBuffer: 8,
                receiveHighWaterMark: 20
            ) { event in
                if event.sequence == 1 { _ = await gate.pop() }  // stall on the first event until released
                seen.append(event)
            }
            let count = 20_000
            try await running([subscriber]) {
                try await expectEventually { (bus.metric("gridbus_subscriptions") ?? 0) >= 1 }
                #expect(try await publishPadded(count: count, padding: 1000, on: bus) == count)
                try await expectEventually { (bus.metric("gridbus_events_fanned_out_total") ?? 0) >= Double(count) }
                _ = gate.tryPush(true)
                try await expectEventually(timeout: .seconds(60)) { seen.count == count }
            }
            #expect(seen.sequences == Array(1...UInt64(count)))
            #expect((bus.metric("gridbus_events_replayed_total") ?? 0) > 0)  // the gap really was filled by replay
        }
    }

    /// On its chain a narrow subscriber proves from the live stream alone that it missed nothing:
    /// it handles every event it wants in order and asks replay for none (no heartbeat comes in the
    /// test's time to ask either). Prefixes that cannot be chained still work, by replay.
    @Test(arguments: [(["incident.acknowledged/G-1", "incident.acknowledged/G-2"], true), (["incident.acknowledged/G-1", "no|such"], false)])
    func aNarrowSubscriberTakesLiveEventsFromItsChain(prefixes: [String], chained: Bool) async throws {
        try await withTestBus(configure: { $0.heartbeatInterval = 600 }) { bus in
            let seen = Seen()
            let subscriber = DurableSubscriber(
                name: "narrow",
                endpoints: bus.endpoints,
                prefixes: prefixes,
                store: try temporaryStore(),
                context: bus.context,
                logger: TestBus.logger()
            ) { seen.append($0) }
            let publisher = ReliablePublisher(
                store: try temporaryStore(),
                endpoint: bus.endpoints.ingress,
                context: bus.context,
                logger: TestBus.logger()
            )
            let grids = chained ? [1, 2] : [1]
            // incident(n) is in grid G-(n % 4) and, on a fresh bus, journaled as sequence n + 1.
            let wanted = (0..<400).filter { grids.contains($0 % 4) }.map { UInt64($0 + 1) }
            try await running([subscriber, publisher]) {
                try await expectEventually { (bus.metric("gridbus_subscriptions") ?? 0) >= 2 }
                #expect(bus.metric("gridbus_egress_chains") == (chained ? 1 : 0))
                for start in stride(from: 0, to: 400, by: 100) { try await publisher.publish(try (start..<start + 100).map { try incident($0) }) }
                try await expectEventually(timeout: .seconds(30)) { seen.count == wanted.count }
            }
            #expect(seen.sequences == wanted)
            let replayed = bus.metric("gridbus_events_replayed_total") ?? 0
            if chained { #expect(replayed == 0) } else { #expect(replayed >= Double(wanted.count)) }
        }
    }

    /// The daemon counts and reports a subscriber whose cursor falls behind.
    @Test(arguments: StoreEngine.allCases) func aLaggingSubscriberIsDetectedAndReported(engine: StoreEngine) async throws {
        try await withTestBus(configure: {
            $0.lagThreshold = 50
            $0.heartbeatInterval = 0.1
        }) { bus in
            let gate = BoundedBuffer<Bool>(capacity: 1)
            let subscriber = DurableSubscriber(
                name: "laggard",
                endpoints: bus.endpoints,
                prefixes: [],
                store: try temporaryStore(engine: engine),
                context: bus.context,
                logger: TestBus.logger(),
                saveEvery: 10
            ) { event in
                if event.sequence == 20 { _ = await gate.pop() }
            }
            let requester = BusRequester(context: bus.context, endpoint: bus.endpoints.replay)
            try await running([subscriber]) {
                try await expectEventually { try await requester.status().subscribers.contains { $0.name == "laggard" } }
                #expect(try await publishPadded(count: 500, padding: 0, on: bus) == 500)
                try await expectEventually { try await requester.status().subscribers.first { $0.name == "laggard" }?.lagging == true }
                try await expectEventually { bus.metric("gridbus_lagging_subscribers") == 1 }
                #expect((bus.metric("gridbus_subscriber_lag_episodes_total") ?? 0) >= 1)
                _ = gate.tryPush(true)
                try await expectEventually { try await requester.status().subscribers.first { $0.name == "laggard" }?.lagging == false }
            }
            // A subscriber that leaves cleanly says goodbye and is no longer listed.
            try await expectEventually { try await requester.status().subscribers.isEmpty }
            await requester.close()
        }
    }
}

/// Waits for `condition`, recording an issue (with the caller's location) if it never holds.
func expectEventually(
    timeout: Duration = .seconds(10),
    _ comment: Comment? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    if try await !eventually(timeout: timeout, condition) {
        Issue.record(comment ?? "condition did not hold within \(timeout)", sourceLocation: sourceLocation)
    }
}

/// Publishes `count` events with `padding` bytes of data through one DEALER, many in flight.
func publishPadded(count: Int, padding: Int, on bus: TestBus) async throws -> Int {
    let endpoint = bus.endpoints.ingress
    let socket = try await ZMQAsyncSocket(context: bus.context, type: .dealer, name: "padded", capacity: 4096) { socket in
        try socket.connect(endpoint)
        return endpoint
    }
    let pad = String(repeating: "p", count: padding)
    var sent = 0
    var acked = 0
    while acked < count {
        while sent < count && sent - acked < 1000 {
            try await socket.send([
                BusProtocol.publish, BusProtocol.encode(UInt64(sent)), eventBytes(id: "pad-\(sent)", data: #"{"schemaVersion":1,"p":"\#(pad)"}"#),
            ])
            sent += 1
        }
        guard case .element(let answer) = await socket.receive(timeout: .seconds(20)), answer.frames[0] == BusProtocol.ack else { break }
        acked += 1
    }
    await socket.close()
    return acked
}

@Suite(.timeLimit(.minutes(2)))
struct BatchDeliveryTests {
    /// Events waiting in the journal arrive in batches; a batch that keeps failing is retried one
    /// event at a time, so only the poisonous event is skipped.
    @Test(arguments: StoreEngine.allCases) func aPoisonousEventIsSkippedAloneNotWithItsBatch(engine: StoreEngine) async throws {
        try await withTestBus { bus in
            let publisher = DirectPublisher(context: bus.context, endpoint: bus.endpoints.ingress)
            for n in 0..<20 { _ = try await publisher.publish(try incident(n)) }
            let seen = Seen()
            let batchSizes = Mutex<[Int]>([])
            let subscriber = DurableSubscriber(
                name: "batches",
                endpoints: bus.endpoints,
                prefixes: ["incident."],
                store: try temporaryStore(engine: engine),
                context: bus.context,
                logger: TestBus.logger(),
                maxBatch: 8
            ) { events in
                batchSizes.withLock { $0.append(events.count) }
                if events.contains(where: { $0.sequence == 5 }) { throw Poison() }
                for event in events { seen.append(event) }
            }
            try await running([subscriber]) {
                try await expectEventually(timeout: .seconds(20)) { seen.count == 19 }
            }
            #expect(seen.sequences == Array(1...20).filter { $0 != 5 }.map(UInt64.init))
            #expect(batchSizes.withLock { $0.max() } == 8)  // the journal's events came in batches
            await publisher.close()
        }
    }

    /// With `catchUpEvery`, live events gather until that many have come in (heartbeats, which
    /// also ring the bell, are an hour apart here): then they reach the handler as one batch.
    @Test(arguments: StoreEngine.allCases) func aGatheringSubscriberHandlesABurstAsOneBatch(engine: StoreEngine) async throws {
        try await withTestBus(configure: { $0.heartbeatInterval = 3600 }) { bus in
            let batchSizes = Mutex<[Int]>([])
            let subscriber = DurableSubscriber(
                name: "gathering",
                endpoints: bus.endpoints,
                prefixes: ["incident."],
                store: try temporaryStore(engine: engine),
                context: bus.context,
                logger: TestBus.logger(),
                maxBatch: 500,
                catchUpEvery: 30
            ) { events in batchSizes.withLock { $0.append(events.count) } }
            let publisher = DirectPublisher(context: bus.context, endpoint: bus.endpoints.ingress)
            var published = 0
            try await running([subscriber]) {
                // Thirty rings. An event published before the subscription is live rings no bell:
                // the first catch-up reads it, and one more event is needed for each.
                func delivered() -> Int { batchSizes.withLock { $0.reduce(0, +) } }
                while published < 60, delivered() < published || published < 30 {
                    _ = try await publisher.publish(try incident(published))
                    published += 1
                    if published >= 30 {
                        let deadline = ContinuousClock.now + .seconds(3)
                        while delivered() < published, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
                    }
                }
            }
            let batches = batchSizes.withLock { $0 }
            #expect(batches.reduce(0, +) == published)
            // At most one batch from the first catch-up, then nothing before the thirtieth ring, and
            // then everything at once.
            #expect(batches.count <= 2 && (batches.last ?? 0) >= 30, "batches: \(batches)")
            await publisher.close()
        }
    }

    /// Copies that wait in the socket while the handler is busy continue the chain: they are taken
    /// together, as replay would give them, not one transaction each, and still without a replay.
    @Test(arguments: StoreEngine.allCases) func chainCopiesThatWaitedAreHandledAsOneBatch(engine: StoreEngine) async throws {
        try await withTestBus(configure: { $0.heartbeatInterval = 3600 }) { bus in
            let gate = BoundedBuffer<Bool>(capacity: 1)
            let batches = Mutex<[[UInt64]]>([])
            let subscriber = DurableSubscriber(
                name: "chained-batches",
                endpoints: bus.endpoints,
                prefixes: ["incident."],
                store: try temporaryStore(engine: engine),
                context: bus.context,
                logger: TestBus.logger(),
                maxBatch: 500
            ) { events in
                if events.first?.sequence == 1 { _ = await gate.pop() }  // busy with the first while the rest arrive
                batches.withLock { $0.append(events.map(\.sequence)) }
            }
            let publisher = ReliablePublisher(
                store: try temporaryStore(engine: engine),
                endpoint: bus.endpoints.ingress,
                context: bus.context,
                logger: TestBus.logger()
            )
            try await running([subscriber, publisher]) {
                try await expectEventually { bus.metric("gridbus_egress_chains") == 1 }
                try await publisher.publish(try (0..<200).map { try incident($0) })
                try await expectEventually { (bus.metric("gridbus_events_fanned_out_total") ?? 0) >= 200 }
                // Sent: on loopback they reach the subscriber's socket well within this; one that came
                // later would only make a smaller batch.
                try await Task.sleep(for: .milliseconds(200))
                _ = gate.tryPush(true)
                try await expectEventually { batches.withLock { $0.joined().count } == 200 }
            }
            let seen = batches.withLock { $0 }
            #expect(Array(seen.joined()) == Array(1...200))
            #expect((seen.map(\.count).max() ?? 0) > 1, "batches: \(seen.map(\.count))")
            #expect((bus.metric("gridbus_events_replayed_total") ?? 0) == 0)
        }
    }

    struct Poison: Error {}
}
