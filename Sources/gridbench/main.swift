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
            "'all', or a comma-separated subset of a–g (bus; g: (b) and (c) with CURVE), i (grid index), j (intake HTTP), k (assignment), l (dispatch rate), m (notifier), n (statistics), o (against NATS, Redis, Mosquitto; with b,c), p (end to end), q (a worker's outbox draining), r (JSON coders: Foundation's against the tree coders)."
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

    func run() throws {
        let selected = which == "all" ? Set("abcdefgijkloqr") : Set(which.filter { $0 != "," })
        let binDirectory = URL(fileURLWithPath: bin)
        let context = ZMQContext()
        var rows: [(String, String, String)] = []
        func perSecond(_ value: Double) -> String { String(format: "%.0f /s", value) }
        func log(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

        var baseline: Double?
        if selected.contains("a") {
            var samples: [Double] = []
            for run in 0..<runs {
                let ports = (try freePort(context), try freePort(context))
                let proxy = try Server(
                    binDirectory.appendingPathComponent("zmq-proxy-baseline"),
                    ["tcp://127.0.0.1:\(ports.0)", "tcp://127.0.0.1:\(ports.1)"],
                    log: "/tmp/gridbench-proxy.log"
                )
                defer { proxy.stop() }  // also when a measurement fails
                usleep(200_000)
                samples.append(
                    try measureProxy(
                        context: context,
                        frontend: "tcp://127.0.0.1:\(ports.0)",
                        backend: "tcp://127.0.0.1:\(ports.1)",
                        count: events,
                        size: size
                    )
                )
                log("(a) run \(run + 1): \(perSecond(samples.last!))")
            }
            baseline = median(samples)
            rows.append(
                ("(a) libzmq XSUB/XPUB proxy (C), PUB→SUB, HWM 0", perSecond(baseline!), "samples: " + samples.map(perSecond).joined(separator: ", "))
            )
        }

        var published = 0
        var gridbusdNumbers: (acked: Double, fanOut: Double)?
        let daemonDirectory = workDirectory + "/gridbusd"
        if !selected.isDisjoint(with: "bcdg") {
            var acked: [Double] = []
            var fanOut: [Double] = []
            var lost: [Int] = []
            var replayed: [Double] = []
            var curveAcked: [Double] = []
            var curveFanOut: [Double] = []
            var curveLost: [Int] = []
            var cpuPerEvent: [Double] = []
            var curveCPUPerEvent: [Double] = []
            let curve = selected.contains("g") ? try CurveSetup(directory: workDirectory + "/keys") : nil
            for run in 0..<runs {
                // Alternating with the NULL-security run, so that both see the same machine noise.
                if let curve {
                    let (daemon, ingress, egress, _) = try startDaemon(
                        bin: binDirectory,
                        directory: daemonDirectory,
                        extra: ["--journal-durability", durability] + curve.daemonArguments
                    )
                    defer { daemon.stop() }
                    let cpuBefore = daemon.cpuSeconds
                    let result = try measurePublish(
                        context: context,
                        ingress: ingress,
                        egress: egress,
                        count: events,
                        size: size,
                        window: window,
                        credentials: curve.client
                    )
                    curveCPUPerEvent.append((daemon.cpuSeconds - cpuBefore) / Double(events) * 1e6)
                    curveAcked.append(result.ackedPerSecond)
                    curveFanOut.append(result.fanOutPerSecond)
                    curveLost.append(result.fanOutLost)
                    log("(g) run \(run + 1): CURVE acked \(perSecond(result.ackedPerSecond)), fan-out \(perSecond(result.fanOutPerSecond))")
                }
                let (daemon, ingress, egress, replay) = try startDaemon(
                    bin: binDirectory,
                    directory: daemonDirectory,
                    extra: ["--journal-durability", durability]
                )
                defer { daemon.stop() }
                let cpuBefore = daemon.cpuSeconds
                let result = try measurePublish(
                    context: context,
                    ingress: ingress,
                    egress: egress,
                    count: events,
                    size: size,
                    window: window,
                    perPublish: eventsPerPublish
                )
                cpuPerEvent.append((daemon.cpuSeconds - cpuBefore) / Double(events) * 1e6)
                acked.append(result.ackedPerSecond)
                fanOut.append(result.fanOutPerSecond)
                lost.append(result.fanOutLost)
                if selected.contains("d") { replayed.append(try measureReplay(context: context, replay: replay, expected: events, batch: 10_000)) }
                published = events
                log(
                    "(b,c,d) run \(run + 1): acked \(perSecond(result.ackedPerSecond)), fan-out \(perSecond(result.fanOutPerSecond)) lost \(result.fanOutLost)"
                        + (replayed.last.map { ", replay \(perSecond($0))" } ?? "")
                )
            }
            gridbusdNumbers = (median(acked), median(fanOut))
            let ratio = { (value: Double) in baseline.map { String(format: "%.2f × (a)", value / $0) } ?? "" }
            rows.append(
                (
                    "(b) gridbusd acked + journaled publish (durability \(durability), window \(window), \(eventsPerPublish) per PUB)",
                    perSecond(median(acked)),
                    ratio(median(acked)) + "; samples: " + acked.map(perSecond).joined(separator: ", ")
                        + String(format: "; daemon CPU %.1f µs/event (publish + fan-out)", median(cpuPerEvent))
                )
            )
            rows.append(
                (
                    "(c) gridbusd live fan-out to one subscriber", perSecond(median(fanOut)),
                    ratio(median(fanOut)) + "; lost: \(lost.max() ?? 0); samples: " + fanOut.map(perSecond).joined(separator: ", ")
                )
            )
            if !replayed.isEmpty {
                rows.append(
                    ("(d) replay, batches of 10,000", perSecond(median(replayed)), "samples: " + replayed.map(perSecond).joined(separator: ", "))
                )
            }
            if !curveAcked.isEmpty {
                let cost = { (curve: Double, null: Double) in String(format: "%.2f × (b); CURVE costs %.0f%%", curve / null, (1 - curve / null) * 100)
                }
                rows.append(
                    (
                        "(g) as (b) with CURVE + ZAP + ACLs", perSecond(median(curveAcked)),
                        cost(median(curveAcked), median(acked)) + "; samples: " + curveAcked.map(perSecond).joined(separator: ", ")
                            + String(format: "; daemon CPU %.1f µs/event (publish + fan-out)", median(curveCPUPerEvent))
                    )
                )
                rows.append(
                    (
                        "(g) as (c) with CURVE", perSecond(median(curveFanOut)),
                        String(format: "%.2f × (c)", median(curveFanOut) / median(fanOut)) + "; lost: \(curveLost.max() ?? 0); samples: "
                            + curveFanOut.map(perSecond).joined(separator: ", ")
                    )
                )
            }
        }
        _ = published

        if selected.contains("e") {
            var p50s: [Double] = []
            var p99s: [Double] = []
            var maxima: [Double] = []
            for run in 0..<runs {
                let (daemon, ingress, _, _) = try startDaemon(
                    bin: binDirectory,
                    directory: daemonDirectory,
                    extra: ["--journal-durability", durability]
                )
                defer { daemon.stop() }
                let (p50, p99, maximum) = try measureLatency(context: context, ingress: ingress, rate: rate, seconds: 5, size: size, offset: 0)
                p50s.append(p50)
                p99s.append(p99)
                maxima.append(maximum)
                log(String(format: "(e) run %d: p50 %.0f µs, p99 %.0f µs, max %.0f µs", run + 1, p50, p99, maximum))
            }
            rows.append(
                (
                    "(e) publish→ACK latency at \(rate) events/s for 5 s", String(format: "p50 %.0f µs, p99 %.0f µs", median(p50s), median(p99s)),
                    "p99 samples: " + p99s.map { String(format: "%.0f µs", $0) }.joined(separator: ", ")
                        + String(format: "; max %.0f µs", maxima.max()!)
                )
            )
        }

        if selected.contains("f") {
            let (daemon, ingress, egress, _) = try startDaemon(
                bin: binDirectory,
                directory: daemonDirectory,
                extra: ["--journal-durability", durability]
            )
            defer { daemon.stop() }
            let (peak, before) = try measureStalled(
                context: context,
                daemon: daemon,
                ingress: ingress,
                egress: egress,
                count: stalledEvents,
                size: size
            )
            log("(f): peak RSS \(peak >> 20) MiB (before publishing \(before >> 20) MiB)")
            rows.append(
                (
                    "(f) gridbusd peak RSS, one subscriber stalled for \(stalledEvents) events", "\(peak >> 20) MiB",
                    "RSS before publishing: \(before >> 20) MiB; egress.high-water-mark 10,000 (default)"
                )
            )
        }

        if selected.contains("i") {
            var p99s: [Double] = []
            var rowsI: [String] = []
            for run in 0..<runs {
                let result = measureGridIndex(grids: grids, lookups: 1_000_000)
                p99s.append(result.p99)
                rowsI.append(String(format: "p50 %.2f µs, p99 %.2f µs, max %.1f µs", result.p50, result.p99, result.max))
                log(
                    String(
                        format: "(i) run %d: index of %d grids built in %.2f s; %@; %d of 1,000,000 points inside a grid",
                        run + 1,
                        grids,
                        result.build,
                        rowsI.last!,
                        result.inside
                    )
                )
            }
            rows.append(
                (
                    "(i) point-in-grid lookup, \(grids) grids, 1,000,000 random points", String(format: "p99 %.2f µs", median(p99s)),
                    rowsI.joined(separator: "; ")
                )
            )
        }

        if selected.contains("j") {
            var p99s: [Double] = []
            var notes: [String] = []
            for run in 0..<runs {
                let (daemon, ingress, egress, replay) = try startDaemon(
                    bin: binDirectory,
                    directory: daemonDirectory,
                    extra: ["--journal-durability", durability]
                )
                defer { daemon.stop() }
                let intakeDirectory = workDirectory + "/intake"
                try? FileManager.default.removeItem(atPath: intakeDirectory)
                let port = try freePort(context)
                let intake = try Server(
                    binDirectory.appendingPathComponent("grid-intake"),
                    [
                        "--auth-mode", "none", "--data-dir", intakeDirectory, "--http-port", "\(port)", "--district-dir", district, "--log-level",
                        "warning",
                        "--bus-ingress", ingress, "--bus-egress", egress, "--bus-replay", replay,
                    ],
                    log: workDirectory + "/intake.log"
                )
                defer { intake.stop() }
                let readyPath = intakeDirectory + "/grid-intake.ready"
                let deadline = Date().addingTimeInterval(30)
                while !FileManager.default.fileExists(atPath: readyPath) && Date() < deadline { usleep(50_000) }
                let result = try measureIntake(host: "127.0.0.1", port: port, rate: reportRate, seconds: reportSeconds, connections: 16)
                // All of them on the bus afterwards.
                var onBus = 0
                let busDeadline = Date().addingTimeInterval(60)
                while onBus < result.accepted && Date() < busDeadline {
                    onBus = try countOnBus(context: context, replay: replay, prefix: "incident.reported")
                    if onBus < result.accepted { usleep(200_000) }
                }
                p99s.append(result.p99)
                notes.append(
                    String(
                        format: "%.0f/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d accepted, %d failed, %d on the bus",
                        result.rate,
                        result.p50,
                        result.p99,
                        result.max,
                        result.accepted,
                        result.failed,
                        onBus
                    )
                )
                log("(j) run \(run + 1): \(notes.last!)")
            }
            rows.append(
                (
                    "(j) POST /v1/incidents offered at \(reportRate)/s for \(reportSeconds) s, 16 keep-alive connections",
                    String(format: "p99 %.1f ms", median(p99s)),
                    notes.joined(separator: "; ")
                )
            )
        }

        if selected.contains("k") {
            var p99s: [Double] = []
            var notes: [String] = []
            for run in 0..<runs {
                let result = measureAssignment(grids: grids, decisions: 1_000_000)
                p99s.append(result.p99)
                notes.append(String(format: "p50 %.2f µs, p99 %.2f µs, max %.1f µs", result.p50, result.p99, result.max))
                log("(k) run \(run + 1): \(notes.last!)")
            }
            rows.append(
                (
                    "(k) assignment decision (least load), \(grids) grids, 1,000,000 decisions", String(format: "p99 %.2f µs", median(p99s)),
                    notes.joined(separator: "; ")
                )
            )
        }

        if selected.contains("r") {
            var samples: [CodecTimes] = []
            for run in 0..<runs {
                samples.append(try measureCodecs(passes: 20_000))
                let last = samples.last!
                log(
                    String(
                        format: "(r) run %d: encode %.2f / %.2f µs, decode %.2f / %.2f µs (Foundation / tree)",
                        run + 1,
                        last.foundationEncode,
                        last.treeEncode,
                        last.foundationDecode,
                        last.treeDecode
                    )
                )
            }
            let encode = (median(samples.map(\.foundationEncode)), median(samples.map(\.treeEncode)))
            let decode = (median(samples.map(\.foundationDecode)), median(samples.map(\.treeDecode)))
            rows.append(
                (
                    "(r) a payload encoded / decoded, Foundation's coders against the tree coders (mean over the \(samples[0].types) event types)",
                    String(
                        format: "encode %.2f → %.2f µs (%.1f×), decode %.2f → %.2f µs (%.1f×)",
                        encode.0,
                        encode.1,
                        encode.0 / encode.1,
                        decode.0,
                        decode.1,
                        decode.0 / decode.1
                    ),
                    "medians of \(runs) runs of 20,000 passes"
                )
            )
        }

        if selected.contains("l") {
            let sample = try District.load(directory: district)
            var rates: [Double] = []
            for run in 0..<runs {
                let (daemon, ingress, egress, replay) = try startDaemon(
                    bin: binDirectory,
                    directory: daemonDirectory,
                    extra: ["--journal-durability", durability]
                )
                defer { daemon.stop() }
                let dispatcherDirectory = workDirectory + "/dispatcher"
                try? FileManager.default.removeItem(atPath: dispatcherDirectory)
                let dispatcherProcess = try Server(
                    binDirectory.appendingPathComponent("grid-dispatcher"),
                    [
                        "--data-dir", dispatcherDirectory, "--http-port", "0", "--district-dir", district, "--log-level", "warning", "--auth-mode",
                        "none",
                        "--bus-ingress", ingress, "--bus-egress", egress, "--bus-replay", replay,
                    ],
                    log: workDirectory + "/dispatcher.log"
                )
                defer { dispatcherProcess.stop() }
                let readyPath = dispatcherDirectory + "/grid-dispatcher.ready"
                let deadline = Date().addingTimeInterval(30)
                while !FileManager.default.fileExists(atPath: readyPath) && Date() < deadline { usleep(50_000) }
                let rate = try measureDispatch(
                    context: context,
                    ingress: ingress,
                    replay: replay,
                    count: dispatchReports,
                    grids: sample.grids.map(\.id)
                )
                rates.append(rate)
                log(String(format: "(l) run %d: %.0f reports/s from incident.reported to incident.dispatched", run + 1, rate))
            }
            rows.append(
                (
                    "(l) incident.reported → incident.dispatched on the bus, \(dispatchReports) reports", perSecond(median(rates)),
                    "samples: " + rates.map(perSecond).joined(separator: ", ")
                )
            )
        }

        if selected.contains("m") {
            let members = try District.load(directory: district).members.map(\.id)
            var rates: [Double] = []
            var notes: [String] = []
            for run in 0..<runs {
                let result = try measureNotifications(
                    bin: binDirectory,
                    workDirectory: workDirectory,
                    district: district,
                    members: members,
                    count: notices,
                    context: context
                )
                rates.append(result.rate)
                notes.append("\(result.requests) requests, \(result.notices) notices, \(result.duplicates) duplicates in effect")
                log(String(format: "(m) run %d: %.0f notices/s; ", run + 1, result.rate) + notes.last!)
            }
            rows.append(
                (
                    "(m) incident.dispatched → signed webhook delivered, \(notices) notices, kill -9 of grid-notifier a third of the way",
                    perSecond(median(rates)),
                    "samples: " + rates.map(perSecond).joined(separator: ", ") + "; " + notes.joined(separator: "; ")
                )
            )
        }

        if selected.contains("q") {
            // One event per PUB (what workers sent before) and 64, in turns, each on a fresh daemon.
            var rates: [Int: [Double]] = [1: [], 64: []]
            for run in 0..<runs {
                for eventsPerPublish in run % 2 == 0 ? [1, 64] : [64, 1] {
                    let (daemon, ingress, _, _) = try startDaemon(
                        bin: binDirectory,
                        directory: daemonDirectory,
                        extra: ["--journal-durability", durability]
                    )
                    defer { daemon.stop() }
                    let rate = try measureOutboxDrain(
                        context: context,
                        ingress: ingress,
                        workDirectory: workDirectory,
                        count: outboxEvents,
                        eventsPerPublish: eventsPerPublish
                    )
                    rates[eventsPerPublish]!.append(rate)
                    log(String(format: "(q) run %d, %d per PUB: %.0f events/s", run + 1, eventsPerPublish, rate))
                }
            }
            for eventsPerPublish in [1, 64] {
                let samples = rates[eventsPerPublish]!
                rows.append(
                    (
                        "(q) a worker's outbox of \(outboxEvents) events drained into gridbusd (ReliablePublisher, \(eventsPerPublish) per PUB)",
                        perSecond(median(samples)),
                        "samples: " + samples.map(perSecond).joined(separator: ", ")
                            + (eventsPerPublish == 64 ? String(format: "; %.2f × one per PUB", median(samples) / median(rates[1]!)) : "")
                    )
                )
            }
        }

        if selected.contains("n") {
            let sample = try District.load(directory: district)
            var rates: [Double] = []
            var p99s: [Double] = []
            var notes: [String] = []
            for run in 0..<runs {
                let incidents = statsIncidents
                let directory = workDirectory
                let result = try blockingAsync {
                    try await measureStats(district: sample, incidents: incidents, queries: 600, workDirectory: directory)
                }
                rates.append(result.eventsPerSecond)
                p99s.append(result.queryP99)
                notes.append(
                    String(
                        format: "%.0f events/s, query p50 %.1f ms p99 %.1f ms max %.1f ms, %d roll-up rows",
                        result.eventsPerSecond,
                        result.queryP50,
                        result.queryP99,
                        result.queryMax,
                        result.rollupRows
                    )
                )
                log("(n) run \(run + 1): " + notes.last!)
            }
            rows.append(("(n) grid-stats fold, \(statsIncidents) incidents (3 events each)", perSecond(median(rates)), notes.joined(separator: "; ")))
            var busRates: [Double] = []
            for run in 0..<runs {
                let directory = workDirectory
                let bin = binDirectory
                busRates.append(
                    try blockingAsync {
                        try await measureStatsOverBus(bin: bin, workDirectory: directory, district: sample, incidents: 100_000, context: context)
                    }
                )
                log(String(format: "(n) run %d over the bus: %.0f events/s", run + 1, busRates.last!))
            }
            rows.append(
                (
                    "(n) grid-stats behind gridbusd, 300,000 events published and folded", perSecond(median(busRates)),
                    "samples: " + busRates.map(perSecond).joined(separator: ", ")
                )
            )
            rows.append(("(n) grid-stats indicator query over them", String(format: "p99 %.1f ms", median(p99s)), "600 queries of six kinds per run"))
        }

        var comparison: [ComparisonRow] = []
        var headToHead = ""
        var fanOutToMany = ""
        if selected.contains("o") {
            (comparison, headToHead, fanOutToMany) = try measureComparison(
                bin: binDirectory,
                workDirectory: workDirectory,
                context: context,
                count: events,
                size: size,
                window: window,
                rate: rate,
                rounds: max(runs, 1),
                gridbusd: gridbusdNumbers
            )
        }

        var endToEndMinutes = ""
        if selected.contains("p") {
            let sample = try District.load(directory: district)
            let result = try measureEndToEnd(
                bin: binDirectory,
                workDirectory: workDirectory,
                context: context,
                district: sample,
                districtDirectory: district,
                rate: e2eRate,
                seconds: e2eSeconds,
                repeatInterval: e2eRepeatInterval,
                acknowledgeAfter: e2eAcknowledgeAfter,
                outage: e2eNotifierOutage.flatMap(NotifierOutage.init(parsing:))
            )
            let memory =
                result.memory.map { "\($0.name) \($0.early)→\($0.middle)→\($0.late) MiB" }.joined(separator: ", ")
                + "; CPU seconds: " + result.cpu.map { String(format: "%@ %.0f", $0.name, $0.seconds) }.joined(separator: ", ")
            let note =
                String(
                    format: "p50 %.1f ms, max %.1f ms; %d offered, %d accepted, %d notified; RSS a minute in → halfway → at the end: ",
                    result.p50,
                    result.max,
                    result.offered,
                    result.accepted,
                    result.notified
                ) + memory
                + "; disk fsync probe, 10 s idle before: \(result.diskIdle); during the run: \(result.diskDuringRun); "
                + "CPU probe (a fixed computation's CPU time), idle before: \(result.cpuProbeIdle); during the run: \(result.cpuProbeDuringRun); "
                + "\(result.slow) reports took 100 ms or more, \(result.slowDuringDiskStall) of them while a probe fsync took 50 ms or more; stages: \(result.stages)"
                + (e2eAcknowledgeAfter.map {
                    String(
                        format: "; handlers acknowledged %d dispatches %.0f s after their notices (at most %.1f s later than that)",
                        result.acknowledged,
                        $0,
                        result.acknowledgedLate
                    )
                } ?? "")
                + (result.refused.isEmpty
                    ? ""
                    : ", answers other than 200: "
                        + result.refused.sorted { $0.key < $1.key }.map { "\($0.key) × \($0.value)" }.joined(separator: ", "))
            log("(p): p99 \(String(format: "%.1f", result.p99)) ms; " + note)
            rows.append(
                (
                    "(p) POST /v1/incidents → incident.dispatched → signed webhook delivered, \(e2eRate)/s for \(e2eSeconds) s (one run)",
                    String(format: "p99 %.1f ms", result.p99), note
                )
            )
            endToEndMinutes = "(p) minute by minute:\n\n" + EndToEndSeries.table(result.minutes, processes: result.processNames)
            if let outage = result.outage, let text = e2eNotifierOutage {
                endToEndMinutes += "\n(p) grid-notifier killed and started again (\(text)), in 15-second steps from 30 s before:\n\n" + outage
            }
        }

        var table = "| measurement | median of \(runs) | notes |\n| --- | --- | --- |\n"
        for (name, value, note) in rows { table += "| \(name) | \(value) | \(note) |\n" }
        if !comparison.isEmpty {
            table +=
                "\n| system (o) | acknowledged publish, window \(window) | live fan-out, 1 subscriber | publish → subscriber at \(rate)/s for 5 s |\n| --- | --- | --- | --- |\n"
            for row in comparison { table += "| \(row.system) | \(row.acked) | \(row.fanOut) | \(row.latency) |\n" }
            table += "\n" + headToHead + "\n" + fanOutToMany
        }
        if !endToEndMinutes.isEmpty { table += "\n" + endToEndMinutes }
        print(table)
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
