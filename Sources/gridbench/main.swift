import ArgumentParser
import Foundation
import GridBusClient
import GridConfiguration
import GridDispatch
import GridDistrict
import GridSecurity
import ZeroMQ

/// `gridbench`: the bus core benchmarks of docs/benchmarks.md, in one run on one machine.
struct GridBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridbench",
        abstract: "Measure gridbusd against libzmq's own proxy (200-byte events, TCP loopback)."
    )

    @Argument(
        help:
            "'all', or a comma-separated subset of a–g (bus; g: (b) and (c) with CURVE), i (grid index), j (intake HTTP), k (assignment), l (dispatch rate), m (notifier), n (statistics), o (against NATS, Redis, Mosquitto; with b,c), p (end to end), q (a worker's outbox draining), r (JSON coders: Foundation's against the tree coders), s (the journal on PostgreSQL: acked publish, with a synchronous standby, replay, failover), t (the workers' stores on PostgreSQL against SQLite, end to end; takeovers)."
    )
    var which = "all"
    @Option(help: "Directory of the release binaries (gridbusd, zmq-proxy-baseline).") var bin = ".build/release"
    @Option(help: "Events for (a)–(d).") var events = 500_000
    @Option(help: "Events published while a subscriber is stalled, for (f).") var stalledEvents = 1_000_000
    @Option(help: "Event size in bytes.") var size = 200
    @Option(help: "Publishes in flight for (b).") var window = 5000
    @Option(help: "Events per PUB message for (b) and (c); (o) measures 1 and 64.") var eventsPerPublish = 1
    @Option(help: "Rate for (e), events per second.") var rate = 10_000
    @Option(help: "journal.durability for gridbusd (full or normal).") var durability = "full"
    @Option(help: "Repeat each measurement this many times and report the median.") var runs = 3
    @Option(help: "Where to keep journals and logs.") var workDirectory = "bench-results/work"
    @Option(help: "Grids in the synthetic district for (i).") var grids = 100_000
    @Option(help: "Offered report rate for (j), per second.") var reportRate = 2000
    @Option(help: "Duration of (j), seconds.") var reportSeconds = 20
    @Option(help: "The district grid-intake and grid-dispatcher load for (j) and (l).") var district = "deploy/sample"
    @Option(help: "Reports published for (l).") var dispatchReports = 20_000
    @Option(help: "Dispatches published for (m), each a notice to one member.") var notices = 20_000
    @Option(help: "Incidents in the statistics store for (n).") var statsIncidents = 1_000_000
    @Option(help: "Reports per second for (p), the end-to-end run.") var e2eRate = 200
    @Option(help: "Seconds (p) lasts.") var e2eSeconds = 600
    @Option(help: "The notifier's repeat.interval in (p), seconds: without --e2e-acknowledge-after, every dispatch is reminded after this.")
    var e2eRepeatInterval = 900
    @Option(help: "Play the handlers in (p): acknowledge each dispatch this many seconds after its notice (default: nobody acknowledges).")
    var e2eAcknowledgeAfter: Double?
    @Option(help: "Kill grid-notifier in (p) AT seconds into the run and start it again SECONDS later: AT:SECONDS.")
    var e2eNotifierOutage: String?
    @Option(help: "Events in the worker's outbox for (q).") var outboxEvents = 100_000
    @Option(help: "Reports per second for (t), the end-to-end runs with SQLite and with PostgreSQL stores.") var storesRate = 100
    @Option(help: "Seconds each run of (t) lasts; 0 measures only the takeovers.") var storesSeconds = 300
    @Option(help: "Kills of each worker's active instance in (t).") var storesKills = 10
    @Flag(help: "In (t), count the workers' statements on PostgreSQL (pg_stat_statements, whose own cost then adds to the server's CPU).")
    var storesCensus = false

    func validate() throws {
        if let text = e2eNotifierOutage {
            guard let outage = NotifierOutage(parsing: text) else {
                throw ValidationError("--e2e-notifier-outage '\(text)' is not AT:SECONDS (whole seconds, SECONDS at least 1), such as 120:120")
            }
            guard outage.at + outage.seconds < e2eSeconds else {
                throw ValidationError("--e2e-notifier-outage \(text) ends at \(outage.at + outage.seconds) s, not within --e2e-seconds \(e2eSeconds)")
            }
        }
    }

    /// Every measurement, in the order a run takes them: (a) first, so that (b) and (c) can be put
    /// against it, and (b, c) before (o), which compares the others with gridbusd's rates.
    static let measurements: [any Measurement.Type] = [
        ProxyBaseline.self, BusThroughput.self, PublishLatency.self, StalledSubscriber.self, GridLookup.self, IntakeRate.self,
        AssignmentDecision.self, CodecComparison.self, DispatchRate.self, NotifierRate.self, OutboxDrain.self, StatsFold.self,
        BrokerComparison.self, EndToEnd.self, ClusterJournal.self, WorkerStores.self,
    ]

    func run() throws {
        let bench = Bench(options: self)
        for measurement in Self.measurements where !bench.selected.isDisjoint(with: measurement.letters) {
            try measurement.run(bench)
        }
        print(bench.report())
    }
}

/// Keys and an access file for the CURVE runs: the daemon and one client allowed everything.
struct CurveSetup {
    let daemonArguments: [String]
    let client: BusCredentials

    init(directory: String) throws {
        try? FileManager.default.removeItem(atPath: directory)
        let server = try ZMQCurveKeyPair.generate()
        let bench = try ZMQCurveKeyPair.generate()
        let serverFiles = try CurveCertificate.write(server, name: "gridbusd", directory: directory)
        try CurveCertificate.write(bench, name: "bench", directory: directory)
        let access = directory + "/access.yaml"
        try "identities:\n  - name: bench\n    key-file: bench.key\n    publish: [\"*\"]\n    subscribe: [\"*\"]\n"
            .write(toFile: access, atomically: true, encoding: .utf8)
        daemonArguments = ["--security-mode", "curve", "--security-server-key", serverFiles.secretPath, "--security-access-file", access]
        client = BusCredentials(keyPair: bench, serverKey: server.publicKey)
    }
}

GridBench.main()
