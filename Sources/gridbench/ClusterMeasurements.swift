import Foundation
import GridBusTestSupport
import GridSchema
import ZeroMQ

/// (s) The bus on a PostgreSQL journal, beside the SQLite journal in the same run: acknowledged
/// publish on a local server (`synchronous_commit = on`) and on a primary with a synchronous
/// standby on the same machine, replay from PostgreSQL, and failover (`kill -9` of the leading
/// node → the first ACK from the next leader); each beside NATS JetStream with three replicas
/// (``JetStreamCluster``) in the same run.
struct ClusterJournal: Measurement {
    static let letters = "s"
    /// Failovers measured per run.
    static let kills = 10

    static func run(_ bench: Bench) throws {
        bench.log("(s) starting PostgreSQL: a lone server, and a primary with a synchronous standby")
        let lone = try PostgresTestServer(name: "bench-lone")
        let primary = try PostgresTestServer(
            name: "bench-primary",
            configuration: ["wal_level = replica", "max_wal_senders = 5", "synchronous_standby_names = 'standby'"]
        )
        let standby = try PostgresTestServer(standbyOf: primary, name: "bench-standby", applicationName: "standby")
        let jetStream = try JetStreamCluster(directory: bench.workDirectory + "/jetstream-r3", context: bench.context)
        defer {
            jetStream.stop()
            try? standby.stop()
            try? primary.stop()
            try? lone.stop()
        }
        try primary.awaitSynchronousStandby("standby")
        var sqlite: [Double] = []
        var local: [Double] = []
        var replicated: [Double] = []
        var replay: [Double] = []
        var jetStreamR3: [Double] = []
        var cpu: (sqlite: [Double], postgres: [Double]) = ([], [])
        for run in 0..<bench.runs {
            // Alternated, so that each sees the same machine.
            let sqliteRun = try publish(bench, journal: ["--journal-durability", "full"])
            sqlite.append(sqliteRun.rate)
            cpu.sqlite.append(sqliteRun.cpuPerEvent)
            let localRun = try publish(bench, journal: postgres(try lone.makeDatabase("bench")), replay: true)
            local.append(localRun.rate)
            cpu.postgres.append(localRun.cpuPerEvent)
            replay.append(localRun.replay ?? 0)
            replicated.append(try publish(bench, journal: postgres(try primary.makeDatabase("bench"))).rate)
            jetStreamR3.append(
                try measureJetStreamAcked(port: jetStream.clientPorts[0], count: bench.events, size: bench.size, window: bench.window, replicas: 3)
            )
            bench.log(
                "(s) run \(run + 1): acked SQLite \(bench.perSecond(sqlite.last!)), PostgreSQL \(bench.perSecond(local.last!)), "
                    + "with a synchronous standby \(bench.perSecond(replicated.last!)), JetStream R3 \(bench.perSecond(jetStreamR3.last!)) "
                    + String(format: "(%.2f ×)", replicated.last! / jetStreamR3.last!) + "; replay from PostgreSQL \(bench.perSecond(replay.last!))"
            )
        }
        let samples = { (values: [Double]) in "samples: " + values.map(bench.perSecond).joined(separator: ", ") }
        let perPublish = "window \(bench.window), \(bench.eventsPerPublish) per PUB"
        bench.rows.append(("(s) acked publish, SQLite journal (durability full, \(perPublish))", bench.perSecond(median(sqlite)), samples(sqlite)))
        bench.rows.append(
            (
                "(s) acked publish, PostgreSQL journal (local, synchronous_commit on)", bench.perSecond(median(local)),
                samples(local) + String(format: "; %.2f × SQLite", median(local) / median(sqlite))
            )
        )
        bench.rows.append(
            (
                "(s) acked publish, PostgreSQL with a synchronous standby (same machine)", bench.perSecond(median(replicated)),
                samples(replicated) + String(format: "; %.2f × SQLite", median(replicated) / median(sqlite))
                    + String(format: "; %.2f × JetStream R3", median(replicated) / median(jetStreamR3))
            )
        )
        bench.rows.append(
            (
                "(s) NATS JetStream, 3 servers on loopback, stream replicas 3, file storage (window \(bench.window))",
                bench.perSecond(median(jetStreamR3)), samples(jetStreamR3)
            )
        )
        bench.rows.append(("(s) replay from PostgreSQL, 10,000 per request", bench.perSecond(median(replay)), samples(replay)))
        bench.rows.append(
            (
                "(s) gridbusd CPU per acked event, SQLite / PostgreSQL", String(format: "%.1f / %.1f µs", median(cpu.sqlite), median(cpu.postgres)),
                "the daemon's own CPU; PostgreSQL's server processes not counted"
            )
        )
        let failovers = try failover(bench, url: try lone.makeDatabase("failover"))
        let jetStreamFailovers = try failover(bench, jetStream: jetStream)
        let describe = { (values: [Double]) in
            (
                String(format: "median %.2f s, max %.2f s", median(values), values.max() ?? 0),
                "\(values.count) kills: " + values.map { String(format: "%.2f", $0) }.joined(separator: ", ") + " s"
            )
        }
        let ours = describe(failovers)
        let theirs = describe(jetStreamFailovers)
        bench.rows.append(("(s) failover: kill -9 of the leading gridbusd of two → first ACK from the other (lease 2 s)", ours.0, ours.1))
        bench.rows.append(("(s) failover: kill -9 of JetStream R3's stream leader → first ACK from a survivor", theirs.0, theirs.1))
    }

    private static func postgres(_ url: String) -> [String] { ["--journal-backend", "postgresql", "--journal-url", url] }

    /// One gridbusd on `journal`: the acked publish rate, its CPU per event, and optionally the replay rate.
    private static func publish(
        _ bench: Bench,
        journal: [String],
        replay: Bool = false
    ) throws -> (
        rate: Double, cpuPerEvent: Double, replay: Double?
    ) {
        let (daemon, ingress, _, replayEndpoint) = try startDaemon(bin: bench.binDirectory, directory: bench.daemonDirectory, extra: journal)
        defer { daemon.stop() }
        let cpuBefore = daemon.cpuSeconds
        let rate = try measurePublishOnly(
            context: bench.context,
            ingress: ingress,
            count: bench.events,
            size: bench.size,
            window: bench.window,
            perPublish: bench.eventsPerPublish
        )
        let cpuPerEvent = (daemon.cpuSeconds - cpuBefore) / Double(bench.events) * 1e6
        let replayed = replay ? try measureReplay(context: bench.context, replay: replayEndpoint, expected: bench.events, batch: 10_000) : nil
        return (rate, cpuPerEvent, replayed)
    }

    /// Two nodes on one database; the leader is killed `kills` times, each time started again as a
    /// follower. Returns the seconds from each kill to the first ACK from the other node.
    private static func failover(_ bench: Bench, url: String) throws -> [Double] {
        var nodes: [(server: Server, ingress: String)] = []
        for name in ["node-a", "node-b"] {
            let started = try startDaemon(bin: bench.binDirectory, directory: bench.daemonDirectory + "-" + name, extra: postgres(url))
            nodes.append((started.0, started.ingress))
        }
        defer { for node in nodes { node.server.stop() } }
        var published = 0
        let context = bench.context
        func ackedOnce(_ ingress: String, timeout: Int32 = 200) throws -> Bool {
            published += 1
            let event = benchEvent(published, size: bench.size)
            return try onThread("failover-probe") {
                let dealer = try ZMQSocket(context: context, type: .dealer)
                defer { dealer.close() }
                try dealer.setReceiveTimeout(milliseconds: timeout)
                try dealer.connect(ingress)
                try dealer.send(frames: [BusProtocol.publish, BusProtocol.encode(1), event])
                return try dealer.receiveMessage()?.frames.first == BusProtocol.ack
            }
        }
        var seconds: [Double] = []
        for kill in 0..<kills {
            // Whoever ACKs leads.
            var leader: Int?
            let deadline = Date().addingTimeInterval(30)
            while leader == nil, Date() < deadline {
                for index in nodes.indices where try ackedOnce(nodes[index].ingress) { leader = index }
            }
            guard let leader else { throw BenchError("no node leads") }
            let other = 1 - leader
            Foundation.kill(nodes[leader].server.pid, SIGKILL)
            let killedAt = now()
            nodes[leader].server.process.waitUntilExit()
            while try !ackedOnce(nodes[other].ingress, timeout: 100) {
                guard Double(now() - killedAt) / 1e9 < 60 else { throw BenchError("no ACK within 60 s of the kill") }
                usleep(10_000)
            }
            seconds.append(Double(now() - killedAt) / 1e9)
            bench.log(String(format: "(s) failover %d: %.2f s", kill + 1, seconds.last!))
            let name = leader == 0 ? "node-a" : "node-b"
            let restarted = try startDaemon(bin: bench.binDirectory, directory: bench.daemonDirectory + "-" + name, extra: postgres(url))
            nodes[leader] = (restarted.0, restarted.ingress)
        }
        return seconds
    }

    /// JetStream R3: the stream's leader killed `kills` times, each time started again; the seconds
    /// from each kill to the first stored ACK from a surviving server.
    private static func failover(_ bench: Bench, jetStream: JetStreamCluster) throws -> [Double] {
        let client = try NATSClient(port: jetStream.clientPorts[0])
        let created = try client.request(
            "$JS.API.STREAM.CREATE.BENCH",
            #"{"name":"BENCH","subjects":["bench.>"],"storage":"file","retention":"limits","discard":"old","num_replicas":3}"#
        )
        guard created.contains("\"config\"") else { throw BenchError("JetStream stream not created: \(created)") }
        var seconds: [Double] = []
        for kill in 0..<kills {
            let leader = try jetStream.streamLeader("BENCH")
            let survivor = (leader + 1) % 3
            jetStream.crash(leader)
            let killedAt = now()
            while !jetStream.ackedOnce(port: jetStream.clientPorts[survivor], size: bench.size) {
                guard Double(now() - killedAt) / 1e9 < 60 else { throw BenchError("no JetStream ACK within 60 s of the kill") }
                usleep(10_000)
            }
            seconds.append(Double(now() - killedAt) / 1e9)
            bench.log(String(format: "(s) JetStream R3 failover %d: %.2f s", kill + 1, seconds.last!))
            try jetStream.start(leader)
            // Until the restarted server has caught up and all three replicas are current again.
            sleep(3)
        }
        _ = try? NATSClient(port: jetStream.clientPorts[(try jetStream.streamLeader("BENCH"))]).request("$JS.API.STREAM.DELETE.BENCH", "")
        return seconds
    }
}
