import Foundation
import GridConfiguration
import GridDistrict
import GridJSON
import GridLoad
import Synchronization
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

struct EndToEndRun {
    var offered: Int
    var accepted: Int
    var notified: Int
    var p50: Double
    var p99: Double
    var max: Double
    /// RSS (MiB) a minute in, halfway and at the end: growth in the second half says whether memory levels off.
    var memory: [(name: String, early: Int, middle: Int, late: Int)]
    /// CPU seconds each process used during the run.
    var cpu: [(name: String, seconds: Double)]
    /// The disk's fsyncs (``DiskProbe``) for 10 s before the processes start, and during the run.
    var diskIdle: String
    var diskDuringRun: String
    /// The machine's speed (``CPUProbe``) for the same 10 s before, and during the run.
    var cpuProbeIdle: String
    var cpuProbeDuringRun: String
    /// Reports slower than 100 ms, and how many of them were in flight while a probe fsync took 50 ms or more.
    var slow: Int
    var slowDuringDiskStall: Int
    /// Minute by minute: latency, CPU per process, the disk.
    var minutes: [EndToEndMinute]
    var processNames: [String]
    /// With handlers: dispatches acknowledged, the answers other than 200 (status → count), and
    /// the longest an acknowledgement came after its set time (s): the handlers keeping up.
    var acknowledged: Int
    var acknowledgedLate: Double
    var refused: [String: Int]
    /// ``EndToEndStages/summary(_:)`` of every report seen on the bus.
    var stages: String
    /// With a notifier outage: ``EndToEndOutageReport/table(trips:samples:start:from:window:)`` from
    /// 30 s before the outage.
    var outage: String?
}

/// (p) The whole pipeline, release binaries on this machine: `POST /v1/incidents` to grid-intake →
/// `incident.reported` journaled → grid-dispatcher registers and dispatches → grid-notifier sends
/// the assignee a signed webhook → the local receiver. grid-stats folds everything on the side.
/// Reports are paced at `rate` per second on a fixed schedule (latency counts from the scheduled
/// send time, so a stall is not hidden) for `seconds`; each process's RSS is sampled throughout.
/// Unless `acknowledgeAfter` is set, nobody acknowledges a dispatch: every case escalates and,
/// after `repeatInterval`, is reminded. With `outage`, grid-notifier is killed and started again
/// during the run (``NotifierOutage``). `storeArguments` go to every worker (their stores on
/// PostgreSQL), and `storeServerCPU` reads the store server's CPU seconds, counted as a process.
func measureEndToEnd(
    bin: URL,
    workDirectory: String,
    context: ZMQContext,
    district: District,
    districtDirectory: String,
    rate: Int,
    seconds: Int,
    repeatInterval: Int,
    acknowledgeAfter: Double?,
    outage: NotifierOutage? = nil,
    storeArguments: [String] = [],
    storeServerCPU: (@Sendable () -> Double)? = nil
) throws -> EndToEndRun {
    let receiver = try WebhookReceiver()
    defer { receiver.stop() }
    let directory = workDirectory + "/e2e"
    try? FileManager.default.removeItem(atPath: directory)
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let idleProbe = DiskProbe(path: directory + "/disk-probe")
    // One probe throughout: its table takes a moment to build, and the idle part is its first 10 s.
    let cpuProbe = CPUProbe()
    Thread.sleep(forTimeInterval: 10)
    let diskIdle = idleProbe.stop()
    let idleEnd = now()
    let (daemon, ingress, egress, replay) = try startDaemon(bin: bin, directory: directory + "/bus")
    defer { daemon.stop() }
    let secret = try writeWebhookSecret(in: directory)
    let rules = directory + "/notifier-rules.yaml"
    // Unless the handlers acknowledge, every dispatch is also reminded from `repeatInterval` on.
    try
        "group-wait: 0s\nrepeat: {interval: \(repeatInterval)s}\nquiet-hours: {roles: {}}\nchannel-order: [webhook]\nroutes:\n  - match: {type: incident.dispatched}\n    to: [assignees]\n"
        .write(toFile: rules, atomically: true, encoding: .utf8)
    let bus = ["--bus-ingress", ingress, "--bus-egress", egress, "--bus-replay", replay, "--log-level", "warning", "--auth-mode", "none"]
    @Sendable func worker(_ name: String, _ arguments: [String]) throws -> (Server, port: Int) {
        let data = directory + "/" + name
        try? FileManager.default.removeItem(atPath: data + "/\(name).ready")  // a restart's: the one left by the killed process
        let server = try Server(
            bin.appendingPathComponent(name),
            ["--data-dir", data, "--http-port", "0", "--district-dir", districtDirectory] + bus + storeArguments + arguments,
            log: directory + "/\(name).log"
        )
        guard let port = ListeningAddresses.awaitReadyFile(data + "/\(name).ready")?.httpPort else {
            throw BenchError("\(name) did not become ready")
        }
        return (server, port)
    }
    let (dispatcher, dispatcherPort) = try worker("grid-dispatcher", [])
    defer { dispatcher.stop() }
    let notifierArguments = [
        "--rules-file", rules, "--webhook-url", "http://127.0.0.1:\(receiver.port)/hook", "--webhook-secret-file", secret, "--channels-dir",
        directory + "/none",
    ]
    let (notifier, notifierPort) = try worker("grid-notifier", notifierArguments)
    let current = Mutex(NotifierInstance(server: notifier, port: notifierPort))
    defer { current.withLock { $0.server.stop() } }
    let (stats, _) = try worker("grid-stats", [])
    defer { stats.stop() }
    let (intake, intakePort) = try worker("grid-intake", [])
    defer { intake.stop() }
    let watcher = try StageWatcher(context: context, egress: egress)
    let processes = [daemon, intake, dispatcher, notifier, stats]
    let notifierIndex = 3
    let pids = processes.map(\.pid)

    // Memory and CPU, every 5 s; with an outage, what waits in the notifier too.
    let samples = Mutex<[ProcessSample]>([])
    let backlog = Mutex<[NotifierBacklogSample]>([])
    let sampling = Atomic<Bool>(true)
    let sampler = Thread {
        while sampling.load(ordering: .relaxed) {
            var sample = ProcessSample(
                at: now(),
                rss: pids.map { statusBytes(pid: $0, field: "VmRSS") },
                cpu: pids.map { processCPUSeconds(pid: $0) }
            )
            (sample.rss[notifierIndex], sample.cpu[notifierIndex]) = current.withLock { ($0.rss, $0.cpuSeconds) }
            samples.withLock { $0.append(sample) }
            if outage != nil, let read = readBacklog(port: current.withLock { $0.port }) { backlog.withLock { $0.append(read) } }
            for _ in 0..<50 where sampling.load(ordering: .relaxed) { usleep(100_000) }
        }
    }
    sampler.start()
    defer { sampling.store(false, ordering: .relaxed) }
    let cpuBefore = processes.map(\.cpuSeconds)
    let storeServerBefore = storeServerCPU?()
    let probe = DiskProbe(path: directory + "/disk-probe")
    let runFrom = now()

    // The reports: a realistic mix, paced over 4 keep-alive connections.
    let mix = Mutex(ReportMix(district: district, seed: 2026))
    let total = rate * seconds
    let next = Atomic<Int>(0)
    /// Each accepted report: when it was due, and when its 201 came.
    let sends = Mutex<[String: (due: UInt64, answered: UInt64)]>([:])
    let start = now() + 200_000_000
    let interval = 1e9 / Double(rate)
    let outageThread = outage.map { outage in
        Background<Void>("outage") {
            let at = start + UInt64(outage.at) * 1_000_000_000
            while now() < at { usleep(10_000) }
            let killed = current.withLock { instance in
                instance.killedCPU = instance.cpuSeconds
                instance.down = true
                kill(instance.server.pid, SIGKILL)
                return instance.server
            }
            killed.process.waitUntilExit()
            usleep(UInt32(outage.seconds) * 1_000_000)
            let (restarted, port) = try worker("grid-notifier", notifierArguments)
            current.withLock { instance in
                instance.server = restarted
                instance.port = port
                instance.down = false
            }
        }
    }
    let posters = (0..<4).map { number in
        Background<Int>("poster-\(number)") {
            let connection = try HTTPConnection(url: "http://127.0.0.1:\(intakePort)", bearer: nil)
            var accepted = 0
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < total else { return accepted }
                let report = mix.withLock { $0.next() }
                let due = start + UInt64(Double(index) * interval)
                let current = now()
                if due > current { usleep(UInt32((due - current) / 1000)) }
                let answer = try connection.send("POST", "/v1/incidents", json: report.body, idempotencyKey: "e2e-\(index)")
                if answer.status == 201, let id = answer.createdID {
                    accepted += 1
                    let answered = now()
                    sends.withLock { $0[id] = (due, answered) }
                }
            }
        }
    }
    // The handlers, if asked: each assignee acknowledges a dispatch `acknowledgeAfter` seconds
    // after its notice, as a grid worker would; the case then starts no escalation or reminder.
    let posting = Atomic<Bool>(true)
    let handlers = acknowledgeAfter.map { after in
        (0..<4).map { number in
            Background<(acknowledged: Int, refused: [String: Int], late: Double)>("handler-\(number)") {
                let connection = try HTTPConnection(url: "http://127.0.0.1:\(dispatcherPort)", bearer: nil)
                var acknowledged = 0
                var refused: [String: Int] = [:]
                var late = 0.0
                while true {
                    let cutoff = Double(now()) / 1e9 - after
                    let taken = receiver.counts.withLock { counts -> (incident: String, member: String, at: Double)? in
                        guard counts.dispatchNoticesTaken < counts.dispatchNotices.count,
                            counts.dispatchNotices[counts.dispatchNoticesTaken].at <= cutoff
                        else { return nil }
                        counts.dispatchNoticesTaken += 1
                        return counts.dispatchNotices[counts.dispatchNoticesTaken - 1]
                    }
                    guard let (incident, member, at) = taken else {
                        if !posting.load(ordering: .relaxed) { return (acknowledged, refused, late) }
                        usleep(5_000)
                        continue
                    }
                    let answer = try connection.send(
                        "POST",
                        "/v1/cases/\(incident)/acknowledge",
                        json: ["by": .string(member)],
                        idempotencyKey: "e2e-ack-\(incident)-\(member)"
                    )
                    if answer.status == 200 { acknowledged += 1 } else { refused["\(answer.status)", default: 0] += 1 }
                    late = max(late, cutoff - at)
                }
            }
        }
    }
    var accepted = 0
    for poster in posters { accepted += try poster.value() }
    try outageThread?.value()
    // The last notices: give the pipeline a few seconds to drain.
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
        let waiting = sends.withLock { sent in receiver.counts.withLock { counts in sent.keys.filter { counts.firstNoticeAt[$0] == nil }.count } }
        if waiting == 0 { break }
        usleep(200_000)
    }
    posting.store(false, ordering: .relaxed)
    var acknowledged = 0
    var refused: [String: Int] = [:]
    var acknowledgedLate = 0.0
    for handler in handlers ?? [] {
        let (count, answers, late) = try handler.value()
        acknowledged += count
        acknowledgedLate = max(acknowledgedLate, late)
        refused.merge(answers, uniquingKeysWith: +)
    }
    sampling.store(false, ordering: .relaxed)
    let diskDuringRun = probe.stop()
    let cpuRuns = cpuProbe.stop()
    let cpuIdle = cpuRuns.filter { $0.start < idleEnd }
    let cpuDuringRun = cpuRuns.filter { $0.start >= runFrom }
    let seen = try watcher.finish()
    var cpu = processes.indices.map { (name: processes[$0].name, seconds: processes[$0].cpuSeconds - cpuBefore[$0]) }
    cpu[notifierIndex].seconds = current.withLock { $0.cpuSeconds } - cpuBefore[notifierIndex]
    if let storeServerCPU, let storeServerBefore { cpu.append((name: "postgresql", seconds: storeServerCPU() - storeServerBefore)) }
    let arrivals = receiver.counts.withLock { $0.firstNoticeAt }
    let trips = sends.withLock { sent in
        sent.compactMap { id, sent in
            arrivals[id].map { (id: id, due: sent.due, answered: sent.answered, arrival: UInt64(max(Double(sent.due), $0 * 1e9))) }
        }
    }
    let stages = trips.compactMap { trip in
        EndToEndStages(
            due: trip.due,
            answered: trip.answered,
            reported: seen.reported[trip.id],
            dispatched: seen.dispatched[trip.id],
            arrival: trip.arrival
        ).map { (due: trip.due, stages: $0) }
    }
    var latencies = trips.map { Double($0.arrival - $0.due) / 1e6 }
    latencies.sort()
    let slow = trips.filter { $0.arrival - $0.due >= 100_000_000 }
    let slowDuringDiskStall = slow.filter { DiskProbe.stalled(diskDuringRun, from: $0.due, to: $0.arrival, minimum: 50) }.count
    guard !latencies.isEmpty else { throw BenchError("no notice arrived") }
    let resources = samples.withLock { $0 }
    let memory = resources.map(\.rss).withUnsafeBufferPointer { rows -> [(String, Int, Int, Int)] in
        let early = rows[min(rows.count - 1, 12)]  // a minute in
        let middle = rows[rows.count / 2]
        let late = rows.last!
        return processes.indices.map { (processes[$0].name, early[$0] >> 20, middle[$0] >> 20, late[$0] >> 20) }
    }
    return EndToEndRun(
        offered: total,
        accepted: accepted,
        notified: latencies.count,
        p50: latencies.quantile(0.5),
        p99: latencies.quantile(0.99),
        max: latencies.last!,
        memory: memory.map { (name: $0.0, early: $0.1, middle: $0.2, late: $0.3) },
        cpu: cpu,
        diskIdle: DiskProbe.summary(diskIdle),
        diskDuringRun: DiskProbe.summary(diskDuringRun),
        cpuProbeIdle: CPUProbe.summary(cpuIdle),
        cpuProbeDuringRun: CPUProbe.summary(cpuDuringRun, idle: CPUProbe.medians(cpuIdle)),
        slow: slow.count,
        slowDuringDiskStall: slowDuringDiskStall,
        minutes: EndToEndSeries.minutes(
            trips: trips.map { ($0.due, $0.arrival) },
            stages: stages,
            samples: resources,
            syncs: diskDuringRun,
            probe: (runs: cpuDuringRun, idle: CPUProbe.medians(cpuIdle)),
            start: start,
            seconds: seconds
        ),
        processNames: processes.map(\.name),
        acknowledged: acknowledged,
        acknowledgedLate: acknowledgedLate,
        refused: refused,
        stages: EndToEndStages.summary(stages.map(\.stages)),
        outage: outage.map { outage in
            EndToEndOutageReport.table(
                trips: trips.map { ($0.due, $0.arrival) },
                samples: backlog.withLock { $0 },
                start: start,
                from: start + UInt64(max(0, outage.at - 30)) * 1_000_000_000
            )
        }
    )
}

/// The grid-notifier running now: another after an outage. Its CPU and RSS are read through this,
/// so that the minute table neither loses the killed process's CPU nor counts it twice.
struct NotifierInstance: Sendable {
    var server: Server
    var port: Int
    var down = false
    /// CPU seconds of the process killed (0 before).
    var killedCPU = 0.0

    var cpuSeconds: Double { down ? killedCPU : killedCPU + server.cpuSeconds }
    var rss: Int { down ? 0 : server.currentRSS }
}

/// grid-notifier's backlog from its `/metrics`; nil while it does not answer.
private func readBacklog(port: Int) -> NotifierBacklogSample? {
    guard let connection = try? HTTPConnection(url: "http://127.0.0.1:\(port)", bearer: nil, timeoutSeconds: 2),
        let answer = try? connection.send("GET", "/metrics"), answer.status == 200
    else { return nil }
    return NotifierBacklogSample(metrics: String(decoding: answer.body, as: UTF8.self), at: now())
}

/// The notifier's webhook secret for gridbench's runs, mode 0600 as the notifier requires: its path.
func writeWebhookSecret(in directory: String) throws -> String {
    let secret = directory + "/webhook.secret"
    guard
        FileManager.default.createFile(
            atPath: secret,
            contents: Data("gridbench-webhook-secret-0123456789".utf8),
            attributes: [.posixPermissions: 0o600]
        )
    else { throw BenchError("cannot write \(secret)") }
    return secret
}
