import Foundation
import GridBusClient
import GridBusDaemon
import GridBusTestSupport
import GridSchema
import Testing
import ZeroMQ

/// A DEALER talking to one of the bus's ROUTER sockets.
struct Peer {
    let socket: ZMQAsyncSocket

    static func connect(_ bus: TestBus, to endpoint: String) async throws -> Peer {
        Peer(
            socket: try await ZMQAsyncSocket(context: bus.context, type: .dealer, name: "test-peer", capacity: 4096) { socket in
                try socket.connect(endpoint)
                return endpoint
            }
        )
    }

    func send(_ frames: [[UInt8]]) async throws { try await socket.send(frames) }

    func receive() async throws -> [[UInt8]] {
        guard case .element(let message) = await socket.receive(timeout: .seconds(10)) else { throw BusClientError.closed }
        return message.frames
    }

    func request(_ frames: [[UInt8]]) async throws -> [[UInt8]] {
        try await send(frames)
        return try await receive()
    }
}

func text(_ frame: [UInt8]) -> String { String(decoding: frame, as: UTF8.self) }

@Suite(.timeLimit(.minutes(1)))
struct IngressTests {
    @Test func publishIsAckedWithASequenceAndRepublishingIsIdempotent() async throws {
        try await withTestBus { bus in
            let peer = try await Peer.connect(bus, to: bus.endpoints.ingress)
            let first = try await peer.request([BusProtocol.publish, [1], eventBytes(id: "a")])
            #expect(first == [BusProtocol.ack, [1], BusProtocol.encode(1)])
            let second = try await peer.request([BusProtocol.publish, [2], eventBytes(id: "b")])
            #expect(second == [BusProtocol.ack, [2], BusProtocol.encode(2)])
            let again = try await peer.request([BusProtocol.publish, [3], eventBytes(id: "a")])
            #expect(again == [BusProtocol.ack, [3], BusProtocol.encode(1)])
            #expect(try await eventually { bus.metric("gridbus_events_duplicate_total") == 1 })
            #expect(bus.metric("gridbus_journal_events") == 2)
            await peer.socket.close()
        }
    }

    /// A PUB of several events: each is checked on its own (a bad one is NACKed alone, at once),
    /// the good ones are journaled in order, and their ACKs (duplicates too) come back in one message.
    @Test func aPublishOfSeveralEventsIsAnsweredWithOneACKForItsGoodEvents() async throws {
        try await withTestBus { bus in
            let peer = try await Peer.connect(bus, to: bus.endpoints.ingress)
            #expect(try await peer.request([BusProtocol.publish, [0], eventBytes(id: "earlier")]) == [BusProtocol.ack, [0], BusProtocol.encode(1)])
            try await peer.send([
                BusProtocol.publish,
                [1], eventBytes(id: "a"),
                [2], eventBytes(id: "x", type: "incident.exploded"),
                [3], eventBytes(id: "earlier"),
                [4], eventBytes(id: "b"),
                [5], eventBytes(id: "a"),
            ])
            let refusal = try await peer.receive()
            #expect(refusal.count == 4 && refusal[0] == BusProtocol.nack && refusal[1] == [2] && text(refusal[2]) == "unknown-type")
            let acks = try await peer.receive()
            #expect(
                acks == [
                    BusProtocol.ack, [1], BusProtocol.encode(2), [3], BusProtocol.encode(1), [4], BusProtocol.encode(3), [5], BusProtocol.encode(2),
                ]
            )
            #expect(try await eventually { bus.metric("gridbus_events_duplicate_total") == 2 })
            #expect(bus.metric("gridbus_events_acked_total") == 5)
            #expect(bus.metric("gridbus_journal_events") == 3)

            // More events than one PUB may carry: every one is refused, by its own token.
            let tooMany = BusProtocol.maximumEventsPerPublish + 1
            try await peer.send([BusProtocol.publish] + (0..<tooMany).flatMap { [BusProtocol.encode(UInt64($0)), eventBytes(id: "many-\($0)")] })
            var refusedTokens: [[UInt8]] = []
            for _ in 0..<tooMany {
                let answer = try await peer.receive()
                #expect(answer[0] == BusProtocol.nack && text(answer[3]).contains("at most \(BusProtocol.maximumEventsPerPublish) events"))
                refusedTokens.append(answer[1])
            }
            #expect(refusedTokens == (0..<tooMany).map { BusProtocol.encode(UInt64($0)) })
            #expect(bus.metric("gridbus_journal_events") == 3)
            await peer.socket.close()
        }
    }

    /// REQ adds an empty delimiter frame; the answer must carry it back. (A REQ socket must send
    /// before it receives, so it runs blocking on its own thread rather than behind the async bridge.)
    @Test func aREQClientWithItsEmptyDelimiterIsAnsweredToo() async throws {
        try await withTestBus { bus in
            let endpoint = bus.endpoints.ingress
            let context = bus.context
            let answer = BoundedBuffer<[[UInt8]]>(capacity: 1)
            let thread = ZMQThread(name: "req") {
                do {
                    let req = try ZMQSocket(context: context, type: .request)
                    try req.setReceiveTimeout(milliseconds: 10_000)
                    try req.connect(endpoint)
                    try req.send(frames: [BusProtocol.publish, [9], eventBytes(id: "via-req")])
                    _ = answer.tryPush(try req.receiveMessage()?.frames ?? [])
                } catch {
                    _ = answer.tryPush([])
                }
            }
            #expect(await answer.pop() == [BusProtocol.ack, [9], BusProtocol.encode(1)])
            await thread.join()
        }
    }

    /// Each kind of bad input gets its own NACK code, is counted by reason, and never reaches the journal.
    @Test func badInputIsRefusedCountedAndNeverJournaled() async throws {
        try await withTestBus(configure: { $0.maxEventSize = 4096 }) { bus in
            let peer = try await Peer.connect(bus, to: bus.endpoints.ingress)
            let cases: [(frames: [[UInt8]], code: String, reasonContains: String)] = [
                ([BusProtocol.publish, [1], Array("not json".utf8)], "malformed", "JSON object"),
                ([BusProtocol.publish, [2], Array("{\"specversion\":\"1.0\"".utf8)], "malformed", "invalid JSON"),
                ([BusProtocol.publish, [3], Array(#"{"specversion":"1.0","source":"s","type":"incident.reported"}"#.utf8)], "invalid", "'id'"),
                ([BusProtocol.publish, [4], eventBytes(id: "x", type: "incident.exploded")], "unknown-type", "incident.exploded"),
                (
                    [BusProtocol.publish, [5], eventBytes(id: "x", data: "\"" + String(repeating: "x", count: 5000) + "\"")], "too-large",
                    "limit is 4096"
                ),
                ([BusProtocol.publish, [6], eventBytes(id: "x", type: "bus.heartbeat")], "invalid", "sent by the bus only"),
                ([BusProtocol.publish, [7]], "malformed", "pairs of frames, a token and an event each (got 1 frames)"),
                ([BusProtocol.publish, [8], eventBytes(id: "x"), [0]], "malformed", "pairs of frames, a token and an event each (got 3 frames)"),
                ([Array("DELETE".utf8), [9]], "unknown-command", "only PUB"),
                ([BusProtocol.publish, [UInt8](repeating: 1, count: 300), eventBytes(id: "x")], "malformed", "token"),
            ]
            for item in cases {
                let answer = try await peer.request(item.frames)
                #expect(answer.count == 4 && answer[0] == BusProtocol.nack, "\(item.code)")
                #expect(text(answer[2]) == item.code)
                #expect(text(answer[3]).contains(item.reasonContains), "\(text(answer[3]))")
            }
            #expect(bus.metric("gridbus_events_nacked_total", labels: #"reason="malformed""#) == 5)
            #expect(bus.metric("gridbus_events_nacked_total", labels: #"reason="invalid""#) == 2)
            #expect(bus.metric("gridbus_events_nacked_total", labels: #"reason="unknown-type""#) == 1)
            #expect(bus.metric("gridbus_events_nacked_total", labels: #"reason="too-large""#) == 1)
            #expect(bus.metric("gridbus_events_nacked_total", labels: #"reason="unknown-command""#) == 1)
            #expect(bus.metric("gridbus_journal_events") ?? 0 == 0)
            #expect(try await BusRequester(context: bus.context, endpoint: bus.endpoints.replay).ping() == 0)
            await peer.socket.close()
        }
    }

    /// Several clients flood the ingress with garbage while a good publisher publishes: every good
    /// event is ACKed and journaled once, every bad one NACKed, and the journal holds only good ones.
    @Test func garbageFromSeveralClientsDoesNotStopGoodPublishers() async throws {
        try await withTestBus { bus in
            let garbageClients = 4
            let garbagePerClient = 2000
            let good = 3000
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<garbageClients {
                    group.addTask {
                        let peer = try await Peer.connect(bus, to: bus.endpoints.ingress)
                        var generator = SystemRandomNumberGenerator()
                        for n in 0..<garbagePerClient {
                            let junk = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                            try await peer.send([BusProtocol.publish, BusProtocol.encode(UInt64(n)), junk])
                        }
                        var nacks = 0
                        for _ in 0..<garbagePerClient where try await peer.receive()[0] == BusProtocol.nack { nacks += 1 }
                        await peer.socket.close()
                        return nacks
                    }
                }
                group.addTask { try await publishNumbered(count: good, on: bus) }
                var total = 0
                for try await result in group { total += result }
                #expect(total == garbageClients * garbagePerClient + good)
            }
            let status = try await BusRequester(context: bus.context, endpoint: bus.endpoints.replay).status()
            #expect(status.head == UInt64(good))
            #expect(status.journalEvents == UInt64(good))
            #expect(bus.metric("gridbus_events_acked_total") == Double(good))
        }
    }
}

/// Publishes events `good-0…` through one DEALER with up to `window` in flight; returns the ACKs received.
func publishNumbered(count: Int, on bus: TestBus, window: Int = 500) async throws -> Int {
    let peer = try await Peer.connect(bus, to: bus.endpoints.ingress)
    var sent = 0
    var acked = 0
    while acked < count {
        while sent < count && sent - acked < window {
            try await peer.send([BusProtocol.publish, BusProtocol.encode(UInt64(sent)), eventBytes(id: "good-\(sent)", grid: "G-\(sent % 3)")])
            sent += 1
        }
        let answer = try await peer.receive()
        #expect(answer[0] == BusProtocol.ack, "\(text(answer.last ?? []))")
        acked += 1
    }
    await peer.socket.close()
    return acked
}
