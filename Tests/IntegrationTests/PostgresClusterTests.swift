import Foundation
import GridBusClient
import GridBusTestSupport
import GridSchema
import GridStore
import Testing
import ZeroMQ

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Two gridbusd nodes, the real binaries, on one PostgreSQL journal (a real server): one leads and
/// ACKs, the other answers `not-leader` with the leader's ingress and follows the journal; after a
/// `kill -9` of the leader the follower takes over, and the journal holds every ACKed event once,
/// without a gap.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PostgresClusterTests {
    struct Node {
        var child: Child
        let ready: [String: String]
        var ingress: String { ready["ingress"] ?? "" }
        var replay: String { ready["replay"] ?? "" }
    }

    static func startNode(_ name: String, url: String, in directory: String) async throws -> Node {
        let arguments = [
            "--data-dir", "\(directory)/\(name)", "--security-mode", "none", "--http-port", "0", "--bus-ingress", "tcp://127.0.0.1:*",
            "--bus-egress", "tcp://127.0.0.1:*", "--bus-replay", "tcp://127.0.0.1:*", "--journal-backend", "postgresql", "--journal-url", url,
            // The default lease: a renewal is a commit, and the shared server's commits stall for
            // most of a second while other suites start servers of their own beside it.
            "--cluster-lease-timeout", "2s", "--log-level", "notice",
        ]
        let child = try Child("gridbusd", arguments, in: directory)
        let ready = try await readyFile("\(directory)/\(name)/gridbusd.ready")
        return Node(child: child, ready: ready)
    }

    static func status(_ node: Node) async throws -> BusStatus {
        let requester = BusRequester(context: ZMQContext(), endpoint: node.replay)
        defer { Task { await requester.close() } }
        return try await requester.status(timeout: .seconds(5))
    }

    /// Waits until `node`'s status satisfies `condition`; returns it.
    static func waitFor(_ node: Node, timeout: Duration = .seconds(15), _ condition: (BusStatus) -> Bool) async throws -> BusStatus {
        let deadline = ContinuousClock.now + timeout
        var last: BusStatus?
        while ContinuousClock.now < deadline {
            if let status = try? await status(node) {
                if condition(status) { return status }
                last = status
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw PostgresTestError("\(node.ingress): the expected status did not come; last: \(String(describing: last?.cluster))")
    }

    static func event(_ id: String) -> [UInt8] {
        Array(#"{"specversion":"1.0","id":"\#(id)","source":"cluster-test","type":"incident.reported","grid":"G-1","data":{}}"#.utf8)
    }

    @Test func theFollowerTakesOverAndNothingAckedIsLostOrDoubled() async throws {
        let directory = try TemporaryFiles.makeDirectory("cluster")
        let url = try PostgresTestServer.shared().makeDatabase("cluster")
        var a = try await Self.startNode("a", url: url, in: directory)
        let aLeads = try await Self.waitFor(a) { $0.cluster?.role == "leader" }
        #expect(aLeads.cluster?.backend == "postgresql" && aLeads.cluster?.leader == a.ingress && aLeads.cluster?.epoch == 1)
        let b = try await Self.startNode("b", url: url, in: directory)
        let bFollows = try await Self.waitFor(b) { $0.cluster?.role == "follower" && $0.cluster?.leader != nil }
        #expect(bFollows.cluster?.leader == a.ingress)
        // What an operator reads.
        let shown = try await run("gridctl", ["status", "--replay", b.replay], in: directory)
        #expect(
            shown.status == 0 && shown.stdout.contains("cluster         postgresql · follower · leader \(a.ingress) · this node \(b.ingress)"),
            "\(shown.stdout)"
        )

        let context = ZMQContext()
        let toA = DirectPublisher(context: context, endpoint: a.ingress)
        let toB = DirectPublisher(context: context, endpoint: b.ingress)
        // The follower refuses and names the leader.
        await #expect {
            _ = try await toB.publish(Self.event("e1"))
        } throws: { error in
            guard case BusClientError.refused(let code, let reason) = error else { return false }
            return code == "not-leader" && reason == a.ingress
        }
        var acked: [String: UInt64] = [:]
        for index in 1...50 { acked["e\(index)"] = try await toA.publish(Self.event("e\(index)")) }
        #expect(acked.values.sorted() == Array(1...50))
        // The follower follows: its head reaches the leader's.
        _ = try await Self.waitFor(b) { $0.head == 50 }

        a.child.crash()
        let started = ContinuousClock.now
        let bLeads = try await Self.waitFor(b) { $0.cluster?.role == "leader" }
        let takeover = ContinuousClock.now - started
        #expect(bLeads.cluster?.epoch == 2 && bLeads.cluster?.leader == b.ingress)
        #expect(takeover < .seconds(5), "took over in \(takeover) with a 2 s lease")
        // The same event again answers its first sequence; a new one continues without a gap.
        #expect(try await toB.publish(Self.event("e7")) == acked["e7"])
        #expect(try await toB.publish(Self.event("e51")) == 51)

        // The old leader comes back (on new ports) as a follower of the new one.
        try FileManager.default.removeItem(atPath: "\(directory)/a/gridbusd.ready")
        a = try await Self.startNode("a", url: url, in: directory)
        let aFollows = try await Self.waitFor(a) { $0.cluster?.role == "follower" && $0.cluster?.leader == b.ingress }
        #expect(aFollows.cluster?.leader == b.ingress)

        // Replay from either node: every ACKed event once, sequences 1…51.
        let requester = BusRequester(context: context, endpoint: a.replay)
        let replayed = try await requester.replay(after: 0, limit: 1000)
        await requester.close()
        #expect(replayed.events.map(\.sequence) == Array(1...51))
        let ids = try replayed.events.map { try CloudEvent.decode($0.bytes).id }
        #expect(Set(ids).count == 51 && Set(ids) == Set((1...51).map { "e\($0)" }))

        await toA.close()
        await toB.close()
        await Self.stop([a, b])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Stops the nodes with SIGTERM: each exits cleanly.
    static func stop(_ nodes: [Node]) async {
        for node in nodes {
            node.child.signal(SIGTERM)
            #expect(await node.child.wait(timeout: .seconds(20)) == 0, "\(node.ingress): \(node.child.stderr)")
        }
    }

    /// Three nodes and a publisher at load, with a subscriber on every node's egress: the leader is
    /// killed with `kill -9` twice; the publisher follows `not-leader` and silence to the next
    /// leader, resending with the same ids; the journal ends with every event once, sequences 1…N.
    @Test func threeNodesKeepPublishingThroughTwoLeaderKills() async throws {
        let directory = try TemporaryFiles.makeDirectory("cluster3")
        let url = try PostgresTestServer.shared().makeDatabase("cluster3")
        let count = 20_000
        var nodes: [Node] = []
        for name in ["n1", "n2", "n3"] { nodes.append(try await Self.startNode(name, url: url, in: directory)) }
        _ = try await Self.waitFor(nodes[0]) { $0.cluster?.role == "leader" }
        let egressList = nodes.compactMap { $0.ready["egress"] }.joined(separator: ",")
        let replayList = nodes.map(\.replay).joined(separator: ",")
        // The publisher names the followers first: it has to find the leader.
        let publisher = try Child(
            "gridbus-probe",
            [
                "publish", "--ingress", nodes.reversed().map(\.ingress).joined(separator: ","), "--store", directory + "/publisher.sqlite",
                // Paced to last a few seconds: on an idle machine the publisher otherwise ends before the kills.
                "--count", "\(count)", "--batch", "200", "--rate", "4000",
            ],
            in: directory
        )
        let subscriber = try Child(
            "gridbus-probe",
            ["subscribe", "--egress", egressList, "--replay", replayList, "--store", directory + "/subscriber.sqlite", "--expect", "\(count)"],
            in: directory
        )
        // Kill whoever leads at a third and at two thirds of the load.
        var killed: Set<Int> = []
        for threshold in [UInt64(count / 3), UInt64(count * 2 / 3)] {
            var leader: Int?
            while leader == nil {
                for (index, node) in nodes.enumerated() where !killed.contains(index) {
                    if let status = try? await Self.status(node), status.cluster?.role == "leader", status.head >= threshold { leader = index }
                }
                #expect(publisher.process.isRunning, "publisher ended early: \(publisher.stderr)")
                try await Task.sleep(for: .milliseconds(50))
            }
            nodes[leader!].child.crash()
            killed.insert(leader!)
        }
        #expect(await publisher.wait(timeout: .seconds(120)) == 0, "publisher: \(publisher.stderr)")
        #expect(await subscriber.wait(timeout: .seconds(120)) == 0, "subscriber: \(subscriber.stderr)")

        let survivor = nodes.indices.first { !killed.contains($0) }!
        let requester = BusRequester(context: ZMQContext(), endpoint: nodes[survivor].replay)
        var sequences: [UInt64] = []
        var ids = Set<String>()
        var after: UInt64 = 0
        while true {
            let batch = try await requester.replay(after: after, limit: 5000)
            for event in batch.events {
                sequences.append(event.sequence)
                ids.insert(try CloudEvent.decode(event.bytes).id)
            }
            if batch.events.isEmpty { break }
            after = batch.next
        }
        await requester.close()
        #expect(
            sequences == Array(1...UInt64(count)),
            "\(sequences.count) events, first gap near \(zip(sequences, 1...).first { $0 != $1 }.map { "\($0)" } ?? "none")"
        )
        #expect(ids.count == count)
        let outbox = try SQLiteConnection(path: directory + "/publisher.sqlite", readOnly: true)
        #expect(try outbox.scalar("SELECT COUNT(*) FROM gridbus_outbox") == 0)
        nodes[survivor].child.signal(SIGTERM)
        #expect(await nodes[survivor].child.wait(timeout: .seconds(20)) == 0)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A node whose database is gone says so (`/healthz` 503, status `unavailable`) and stops its
    /// heartbeats, which would tell subscribers they are current.
    @Test func aNodeCutOffFromItsDatabaseFallsSilent() async throws {
        let directory = try TemporaryFiles.makeDirectory("cutoff")
        let server = try PostgresTestServer(name: "cut-off-node")
        let node = try await Self.startNode("n", url: try server.makeDatabase("cutoff"), in: directory)
        _ = try await Self.waitFor(node) { $0.cluster?.role == "leader" }
        let health = URL(string: (node.ready["http"] ?? "") + "/healthz")!
        #expect(try await URLSession.shared.data(from: health).1.httpStatus == 200)
        let subscriber = try ZMQSocket(context: ZMQContext(), type: .subscribe)
        defer { subscriber.close() }
        try subscriber.setReceiveTimeout(milliseconds: 3000)
        try subscriber.subscribe(Topic.prefix(forType: .busHeartbeat))
        try subscriber.connect(node.ready["egress"] ?? "")
        #expect(try subscriber.receiveMessage() != nil, "a heartbeat while the database is there")

        try server.stop(mode: "immediate")
        let cutOff = try await Self.waitFor(node) { $0.cluster?.role == "unavailable" }
        #expect(cutOff.cluster?.problem?.contains("PostgreSQL") == true)
        #expect(try await URLSession.shared.data(from: health).1.httpStatus == 503)
        // What was queued before is drained; then nothing for three heartbeat intervals.
        while try subscriber.receiveMessage(dontWait: true) != nil {}
        try subscriber.setReceiveTimeout(milliseconds: 3000)
        #expect(try subscriber.receiveMessage() == nil, "no heartbeat from a node that does not know the head")

        node.child.signal(SIGTERM)
        #expect(await node.child.wait(timeout: .seconds(20)) == 0, "\(node.child.stderr)")
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension URLResponse {
    fileprivate var httpStatus: Int { (self as? HTTPURLResponse)?.statusCode ?? 0 }
}
