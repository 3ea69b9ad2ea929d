import GridBusClient
import GridBusTestSupport
import GridSchema
import Synchronization
import Testing
import ZeroMQ

/// A ROUTER standing in for gridbusd, so that a test sees how the publisher frames its PUBs and can
/// answer as an older daemon would.
final class StandInBus: Sendable {
    let endpoint: String
    /// The number of events in each PUB received, in order.
    let publishSizes = Mutex<[Int]>([])
    private let socket: ZMQAsyncSocket

    /// - Parameter answer: the reply messages (without the routing id) for a PUB's token/event pairs.
    init(context: ZMQContext, answer: @escaping @Sendable (_ pairs: [(token: [UInt8], event: [UInt8])]) -> [[[UInt8]]]) async throws {
        let port = try freePort()
        endpoint = "tcp://127.0.0.1:\(port)"
        let endpoint = endpoint
        socket = try await ZMQAsyncSocket(context: context, type: .router, name: "stand-in-bus") { socket in
            try socket.bind(endpoint)
            return endpoint
        }
        let socket = socket
        Task { [self] in
            while let message = await socket.receive() {
                let frames = message.frames
                guard frames.count >= 4, frames[1] == BusProtocol.publish, frames.count % 2 == 0 else { continue }
                let pairs = stride(from: 2, to: frames.count, by: 2).map { (token: frames[$0], event: frames[$0 + 1]) }
                self.publishSizes.withLock { $0.append(pairs.count) }
                for reply in answer(pairs) { try? await socket.send([frames[0]] + reply) }
            }
        }
    }

    func close() async { await socket.close() }

    /// `ACK t1 s1 t2 s2 …`: what gridbusd answers for the events of one PUB.
    static func acknowledgeAll(_ pairs: [(token: [UInt8], event: [UInt8])]) -> [[[UInt8]]] {
        [[BusProtocol.ack] + pairs.enumerated().flatMap { [$0.element.token, BusProtocol.encode(UInt64($0.offset + 1))] }]
    }
}

@Suite(.timeLimit(.minutes(1)))
struct PublisherBatchingTests {
    @Test func aBacklogGoesOutManyEventsToAPubAndOneAckSettlesThemAll() async throws {
        let context = ZMQContext()
        let bus = try await StandInBus(context: context, answer: StandInBus.acknowledgeAll)
        let store = try temporaryStore()
        var configuration = ReliablePublisher.Configuration()
        configuration.eventsPerPublish = 64
        let publisher = ReliablePublisher(
            store: store,
            endpoint: bus.endpoint,
            context: context,
            configuration: configuration,
            logger: TestBus.logger()
        )
        try await publisher.publish(try (0..<200).map { try incident($0) })  // in the outbox before the publisher runs
        try await running([publisher]) {
            try await expectEventually { try await store.outboxCount() == 0 }
        }
        #expect(bus.publishSizes.withLock { $0 } == [64, 64, 64, 8])
        #expect(try await store.rejectedCount() == 0)
        await bus.close()
    }

    /// A gridbusd from before many events per PUB answers such a PUB with one NACK `malformed`, by
    /// its first token, and nothing else. The publisher must not file that event as refused.
    @Test func anOlderBusIsServedOneEventPerPubAndNothingIsRefused() async throws {
        let context = ZMQContext()
        let sequence = Atomic<UInt64>(0)
        // As gridbusd, an event sent again (its ACK later than `ackTimeout` on a busy machine) is
        // acknowledged with the sequence it was given the first time.
        let sequences = Mutex<[[UInt8]: UInt64]>([:])
        let bus = try await StandInBus(context: context) { pairs in
            guard pairs.count == 1 else {
                return [
                    [
                        BusProtocol.nack, pairs[0].token, Array("malformed".utf8),
                        Array("PUB takes exactly two frames: token and event (got \(pairs.count * 2))".utf8),
                    ]
                ]
            }
            let number = sequences.withLock { known in
                if let number = known[pairs[0].event] { return number }
                known[pairs[0].event] = sequence.add(1, ordering: .relaxed).newValue
                return known[pairs[0].event]!
            }
            return [[BusProtocol.ack, pairs[0].token, BusProtocol.encode(number)]]
        }
        let store = try temporaryStore()
        let publisher = ReliablePublisher(store: store, endpoint: bus.endpoint, context: context, logger: TestBus.logger())
        try await publisher.publish(try (0..<100).map { try incident($0) })
        try await running([publisher]) {
            try await expectEventually { try await store.outboxCount() == 0 }
            try await publisher.publish(try incident(100))
            try await expectEventually { try await store.outboxCount() == 0 }
        }
        let sizes = bus.publishSizes.withLock { $0 }
        #expect(sizes.first == 64)  // the first try, in company
        #expect(sizes.drop(while: { $0 > 1 }).allSatisfy { $0 == 1 })  // then one per PUB, for good
        #expect(sequence.load(ordering: .relaxed) == 101)
        #expect(try await store.rejectedCount() == 0)
        await bus.close()
    }

    /// With the real daemon: a refusal in a PUB of many is that event's alone.
    @Test func oneRefusedEventInAPubOfManyIsRejectedAndTheOthersDelivered() async throws {
        try await withTestBus { bus in
            let store = try temporaryStore()
            let publisher = ReliablePublisher(store: store, endpoint: bus.endpoints.ingress, context: bus.context, logger: TestBus.logger())
            // Heartbeats are the daemon's own: refused `invalid` (for good), among valid events.
            var events = try (0..<30).map { try incident($0) }
            events.insert(try CloudEvent(source: "s", payload: BusHeartbeat(head: 1, tail: 1)), at: 10)
            try await publisher.publish(events)
            try await running([publisher]) {
                try await expectEventually { try await store.outboxCount() == 0 }
            }
            #expect(try await store.rejectedCount() == 1)
            #expect(try await BusRequester(context: bus.context, endpoint: bus.endpoints.replay).ping() == 30)
        }
    }
}
