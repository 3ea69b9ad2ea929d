import Foundation
import GridBusClient
import GridBusDaemon
import GridBusTestSupport
import GridSchema
import Testing
import ZeroMQ

/// The worker runtime with CURVE on and access lists that let each worker see only its own topics.
@Suite(.timeLimit(.minutes(2)))
struct SecureRuntimeTests {
    static let identities = [
        TestIdentity("intake", publish: ["incident.*"]),
        TestIdentity("dispatcher", subscribe: ["incident.acknowledged/G-1*"]),
        TestIdentity("monitoring", subscribe: ["*"]),
    ]

    /// A subscriber allowed a slice of the topics sees every event of its slice once and in order, even
    /// when its live queue overflows: the live stream only rings the bell, replay delivers.
    @Test func aFilteredSubscriberMissesNothingEvenWhenItsLiveQueueOverflows() async throws {
        try await withSecureTestBus(identities: Self.identities, configure: { $0.egressHighWaterMark = 10 }) { bus, endpoints in
            let seen = Seen()
            let subscriber = DurableSubscriber(
                name: "dispatcher",
                endpoints: endpoints["dispatcher"]!,
                prefixes: ["incident.acknowledged/G-1"],
                store: try temporaryStore(),
                context: bus.context,
                logger: TestBus.logger(),
                receiveBuffer: 4,
                receiveHighWaterMark: 10
            ) { event in
                if event.sequence % 100 == 1 { try await Task.sleep(for: .milliseconds(20)) }  // a slow handler now and then
                seen.append(event)
            }
            let store = try temporaryStore()
            let publisher = ReliablePublisher(
                store: store,
                endpoint: endpoints["intake"]!.ingress,
                credentials: endpoints["intake"]!.credentials,
                context: bus.context,
                logger: TestBus.logger()
            )
            try await running([subscriber, publisher]) {
                try await expectEventually { (bus.metric("gridbus_subscriptions") ?? 0) >= 2 }
                for start in stride(from: 0, to: 4000, by: 500) { try await publisher.publish(try (start..<start + 500).map { try incident($0) }) }
                try await expectEventually(timeout: .seconds(60)) { seen.count == 1000 }
            }
            // grids G-0…G-3 in turn: G-1 holds sequences 2, 6, 10, …
            #expect(seen.sequences == Array(stride(from: 2, through: 3998, by: 4)))
            #expect(try await store.outboxCount() == 0)
            // It never asked for more than it may (denial counters appear with the first denial).
            #expect(!bus.metricsText.contains("gridbus_acl_denials_total{"))
        }
    }

    @Test func aPublishOutsideTheAccessListIsRejectedForGoodNotRetried() async throws {
        try await withSecureTestBus(identities: Self.identities) { bus, endpoints in
            let store = try temporaryStore()
            let publisher = ReliablePublisher(
                store: store,
                endpoint: endpoints["intake"]!.ingress,
                credentials: endpoints["intake"]!.credentials,
                context: bus.context,
                logger: TestBus.logger()
            )
            try await running([publisher]) {
                try await publisher.publish(try CloudEvent(source: "intake", payload: GridModeChanged.example))
                try await publisher.publish(try incident(1))
                try await expectEventually { try await store.outboxCount() == 0 }
            }
            #expect(try await store.rejectedCount() == 1)
            #expect(bus.metric("gridbus_acl_denials_total", labels: #"identity="intake",action="publish""#) == 1)
            let requester = BusRequester(context: bus.context, endpoint: bus.endpoints.replay, credentials: endpoints["monitoring"]!.credentials)
            let status = try await requester.status()
            #expect(status.head == 1 && status.security == "curve")
            #expect(status.identities == ["dispatcher", "intake", "monitoring"])
            await requester.close()
        }
    }

    @Test func aClientWithoutKeysGetsNoAnswer() async throws {
        try await withSecureTestBus(identities: Self.identities) { bus, _ in
            let plain = BusRequester(context: bus.context, endpoint: bus.endpoints.replay)
            await #expect(throws: BusClientError.self) { _ = try await plain.ping(timeout: .milliseconds(500)) }
            await plain.close()
        }
    }
}
