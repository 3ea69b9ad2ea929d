import Foundation
import GridBusClient
import GridBusDaemon
import GridBusTestSupport
import GridConfiguration
import GridSchema
import Testing
import ZeroMQ

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite(.timeLimit(.minutes(1)))
struct ReplayAndEgressTests {
    @Test func replayStreamsBoundedBatchesFilteredByPrefix() async throws {
        try await withTestBus { bus in
            #expect(try await publishNumbered(count: 30, on: bus) == 30)  // grids G-0, G-1, G-2 in turn
            let requester = BusRequester(context: bus.context, endpoint: bus.endpoints.replay)
            let all = try await requester.replay(after: 0, limit: 12)
            #expect(all.events.map(\.sequence) == Array(1...12))
            #expect(all.next == 12 && all.head == 30 && all.tail == 1 && !all.isComplete)
            let rest = try await requester.replay(after: all.next, limit: 100)
            #expect(rest.events.map(\.sequence) == Array(13...30) && rest.isComplete)

            let oneGrid = try await requester.replay(after: 0, prefixes: ["incident.reported/G-1"], limit: 100)
            #expect(oneGrid.events.map(\.sequence) == Array(stride(from: 2, through: 30, by: 3)))
            #expect(oneGrid.events.allSatisfy { $0.topic == "incident.reported/G-1" })
            #expect(oneGrid.isComplete)
            let nothing = try await requester.replay(after: 0, prefixes: ["grid."])
            #expect(nothing.events.isEmpty && nothing.isComplete)

            let event = try all.events[4].decode()
            #expect(event.id == "good-4" && event.sequence == 5)
            #expect(bus.metric("gridbus_events_replayed_total") == Double(12 + 18 + 10))
            await requester.close()
        }
    }

    /// A single SQLite node leads, and says so from the start: the no-leader alert sums this gauge.
    @Test func aSingleNodeShowsItselfLeading() async throws {
        try await withTestBus { (bus: TestBus) async throws in
            #expect(try await eventually { bus.metric("gridbus_cluster_leader") == 1 })
            #expect(bus.metric("gridbus_cluster_role_changes_total") == 0)
        }
    }

    @Test func replaySocketAnswersStatusPingAndRefusesNonsense() async throws {
        try await withTestBus { bus in
            _ = try await publishNumbered(count: 3, on: bus)
            let requester = BusRequester(context: bus.context, endpoint: bus.endpoints.replay)
            #expect(try await requester.ping() == 3)
            let status = try await requester.status()
            #expect(status.head == 3 && status.tail == 1 && status.journalEvents == 3 && status.journalBytes > 0)
            #expect(status.durability == "full")
            await requester.close()

            let peer = try await Peer.connect(bus, to: bus.endpoints.replay)
            let unknown = try await peer.request([Array("FLUSH".utf8)])
            #expect(unknown[0] == BusProtocol.error && text(unknown[1]) == "unknown-command")
            let malformed = try await peer.request([BusProtocol.replay, [1, 2]])
            #expect(malformed[0] == BusProtocol.error && text(malformed[1]) == "malformed")
            await peer.socket.close()
        }
    }

    /// The egress frames are topic, sequence, event; heartbeats carry the last sequence sent.
    @Test func egressSendsTopicSequenceEventAndHeartbeats() async throws {
        try await withTestBus { bus in
            let egress = bus.endpoints.egress
            let sub = try await ZMQAsyncSocket(context: bus.context, type: .subscribe, name: "sub") { socket in
                try socket.subscribe("incident.reported/G-2")
                try socket.subscribe("bus.heartbeat/")
                try socket.connect(egress)
                return egress
            }
            // Wait until the subscription has reached the daemon (slow joiner): a heartbeat proves it.
            var heartbeat: ZMQMessage?
            while heartbeat == nil, case .element(let message) = await sub.receive(timeout: .seconds(5)) { heartbeat = message }
            #expect(heartbeat.map { text($0.frames[0]) } == "bus.heartbeat/-")
            _ = try await publishNumbered(count: 6, on: bus)
            var received: [(String, UInt64, CloudEvent)] = []
            while received.count < 2, case .element(let message) = await sub.receive(timeout: .seconds(5)) {
                guard text(message.frames[0]) != "bus.heartbeat/-" else { continue }
                received.append((text(message.frames[0]), BusProtocol.decodeInteger(message.frames[1])!, try CloudEvent.decode(message.frames[2])))
            }
            #expect(received.map(\.0) == ["incident.reported/G-2", "incident.reported/G-2"])
            #expect(received.map(\.1) == [3, 6])
            #expect(received.map(\.2.sequence) == [3, 6])
            var head: UInt64 = 0
            while head < 6, case .element(let message) = await sub.receive(timeout: .seconds(5)) {
                if text(message.frames[0]) == "bus.heartbeat/-" {
                    head = BusProtocol.decodeInteger(message.frames[1])!
                    let beat = try CloudEvent.decode(message.frames[2]).payload(as: BusHeartbeat.self)
                    #expect(beat.head == head)
                }
            }
            #expect(head == 6)
            #expect(try await eventually { bus.metric("gridbus_subscriptions") == 2 })
            await sub.close()
        }
    }

    /// A chain lives as long as someone subscribes to it: when the last subscriber goes, libzmq
    /// withdraws what was applied for it, and the daemon forgets the chain.
    @Test func aChainIsForgottenWhenItsLastSubscriberGoes() async throws {
        try await withTestBus { bus in
            let egress = bus.endpoints.egress
            let key = try #require(BusProtocol.chainKey(prefixes: ["incident."]))
            func subscriber(_ name: String) async throws -> ZMQAsyncSocket {
                try await ZMQAsyncSocket(context: bus.context, type: .subscribe, name: name) { socket in
                    try socket.subscribe(key)
                    try socket.connect(egress)
                    return egress
                }
            }
            let first = try await subscriber("first")
            let second = try await subscriber("second")
            #expect(try await eventually { bus.metric("gridbus_egress_chains") == 1 && bus.metric("gridbus_subscriptions") == 1 })
            await first.close()
            try await Task.sleep(for: .milliseconds(300))  // the first one's withdrawal arrives; the chain stays for the second
            #expect(bus.metric("gridbus_egress_chains") == 1)
            await second.close()
            #expect(try await eventually { bus.metric("gridbus_egress_chains") == 0 && bus.metric("gridbus_subscriptions") == 0 })
        }
    }

    @Test func healthAndMetricsAreServedOverHTTP() async throws {
        try await withTestBus { bus in
            #expect(try await eventually { bus.ready != nil })
            let http = try #require(bus.ready?.http)
            let (health, healthResponse) = try await URLSession.shared.data(from: URL(string: http + "/healthz")!)
            #expect((healthResponse as? HTTPURLResponse)?.statusCode == 200)
            #expect(String(decoding: health, as: UTF8.self).contains(#""status":"ok""#))
            let (metrics, _) = try await URLSession.shared.data(from: URL(string: http + "/metrics")!)
            let text = String(decoding: metrics, as: UTF8.self)
            for name in [
                "gridbus_events_received_total", "gridbus_events_acked_total", "gridbus_events_nacked_total", "gridbus_events_fanned_out_total",
                "gridbus_events_replayed_total", "gridbus_journal_events", "gridbus_journal_bytes", "gridbus_head_sequence",
                "gridbus_lagging_subscribers", "gridbus_commit_batch_events", "gridbus_commit_duration_seconds",
            ] {
                #expect(text.contains(name), "missing \(name)")
            }
            #expect(text.contains("gridbus_journal_keys_bytes 8388608"), "the de-duplication table starts at 8 MiB")
        }
    }
}
