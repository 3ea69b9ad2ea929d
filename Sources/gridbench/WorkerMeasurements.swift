import Foundation
import GridBusClient
import GridConfiguration
import GridDispatch
import GridDistrict
import GridSchema
import GridSecurity
import ZeroMQ

/// (j) POST /v1/incidents at a fixed rate, every accepted report on the bus.
struct IntakeRate: Measurement {
    static let letters = "j"

    static func run(_ bench: Bench) throws {
        var p99s: [Double] = []
        var notes: [String] = []
        for run in 0..<bench.runs {
            let (daemon, ingress, egress, replay) = try startDaemon(
                bin: bench.binDirectory,
                directory: bench.daemonDirectory,
                extra: ["--journal-durability", bench.durability]
            )
            defer { daemon.stop() }
            let intakeDirectory = bench.workDirectory + "/intake"
            try? FileManager.default.removeItem(atPath: intakeDirectory)
            let port = try freePort(bench.context)
            let intake = try Server(
                bench.binDirectory.appendingPathComponent("grid-intake"),
                [
                    "--auth-mode", "none", "--data-dir", intakeDirectory, "--http-port", "\(port)", "--district-dir", bench.district, "--log-level",
                    "warning",
                    "--bus-ingress", ingress, "--bus-egress", egress, "--bus-replay", replay,
                ],
                log: bench.workDirectory + "/intake.log"
            )
            defer { intake.stop() }
            guard ListeningAddresses.awaitReadyFile(intakeDirectory + "/grid-intake.ready") != nil else {
                throw BenchError("grid-intake did not start")
            }
            let result = try measureIntake(host: "127.0.0.1", port: port, rate: bench.reportRate, seconds: bench.reportSeconds, connections: 16)
            // All of them on the bus afterwards.
            var onBus = 0
            let busDeadline = Date().addingTimeInterval(60)
            while onBus < result.accepted && Date() < busDeadline {
                onBus = try countOnBus(context: bench.context, replay: replay, prefix: "incident.reported")
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
            bench.log("(j) run \(run + 1): \(notes.last!)")
        }
        bench.rows.append(
            (
                "(j) POST /v1/incidents offered at \(bench.reportRate)/s for \(bench.reportSeconds) s, 16 keep-alive connections",
                String(format: "p99 %.1f ms", median(p99s)),
                notes.joined(separator: "; ")
            )
        )
    }
}

/// (l) incident.reported → incident.dispatched through grid-dispatcher.
struct DispatchRate: Measurement {
    static let letters = "l"

    static func run(_ bench: Bench) throws {
        let sample = try District.load(directory: bench.district)
        var rates: [Double] = []
        for run in 0..<bench.runs {
            let (daemon, ingress, egress, replay) = try startDaemon(
                bin: bench.binDirectory,
                directory: bench.daemonDirectory,
                extra: ["--journal-durability", bench.durability]
            )
            defer { daemon.stop() }
            let dispatcherDirectory = bench.workDirectory + "/dispatcher"
            try? FileManager.default.removeItem(atPath: dispatcherDirectory)
            let dispatcherProcess = try Server(
                bench.binDirectory.appendingPathComponent("grid-dispatcher"),
                [
                    "--data-dir", dispatcherDirectory, "--http-port", "0", "--district-dir", bench.district, "--log-level", "warning", "--auth-mode",
                    "none",
                    "--bus-ingress", ingress, "--bus-egress", egress, "--bus-replay", replay,
                ],
                log: bench.workDirectory + "/dispatcher.log"
            )
            defer { dispatcherProcess.stop() }
            guard ListeningAddresses.awaitReadyFile(dispatcherDirectory + "/grid-dispatcher.ready") != nil else {
                throw BenchError("grid-dispatcher did not start")
            }
            let rate = try measureDispatch(
                context: bench.context,
                ingress: ingress,
                replay: replay,
                count: bench.dispatchReports,
                grids: sample.grids.map(\.id)
            )
            rates.append(rate)
            bench.log(String(format: "(l) run %d: %.0f reports/s from incident.reported to incident.dispatched", run + 1, rate))
        }
        bench.rows.append(
            (
                "(l) incident.reported → incident.dispatched on the bus, \(bench.dispatchReports) reports", bench.perSecond(median(rates)),
                "samples: " + rates.map(bench.perSecond).joined(separator: ", ")
            )
        )
    }
}

/// (m) incident.dispatched → signed webhook, with a kill -9 of grid-notifier.
struct NotifierRate: Measurement {
    static let letters = "m"

    static func run(_ bench: Bench) throws {
        let members = try District.load(directory: bench.district).members.map(\.id)
        var rates: [Double] = []
        var notes: [String] = []
        for run in 0..<bench.runs {
            let result = try measureNotifications(
                bin: bench.binDirectory,
                workDirectory: bench.workDirectory,
                district: bench.district,
                members: members,
                count: bench.notices,
                context: bench.context
            )
            rates.append(result.rate)
            notes.append("\(result.requests) requests, \(result.notices) notices, \(result.duplicates) duplicates in effect")
            bench.log(String(format: "(m) run %d: %.0f notices/s; ", run + 1, result.rate) + notes.last!)
        }
        bench.rows.append(
            (
                "(m) incident.dispatched → signed webhook delivered, \(bench.notices) notices, kill -9 of grid-notifier a third of the way",
                bench.perSecond(median(rates)),
                "samples: " + rates.map(bench.perSecond).joined(separator: ", ") + "; " + notes.joined(separator: "; ")
            )
        )
    }
}

/// (q) a worker's outbox drained into gridbusd, one and 64 events per PUB.
struct OutboxDrain: Measurement {
    static let letters = "q"

    static func run(_ bench: Bench) throws {
        // One event per PUB (what workers sent before) and 64, in turns, each on a fresh daemon.
        var rates: [Int: [Double]] = [1: [], 64: []]
        for run in 0..<bench.runs {
            for eventsPerPublish in run % 2 == 0 ? [1, 64] : [64, 1] {
                let (daemon, ingress, _, _) = try startDaemon(
                    bin: bench.binDirectory,
                    directory: bench.daemonDirectory,
                    extra: ["--journal-durability", bench.durability]
                )
                defer { daemon.stop() }
                let rate = try measureOutboxDrain(
                    context: bench.context,
                    ingress: ingress,
                    workDirectory: bench.workDirectory,
                    count: bench.outboxEvents,
                    eventsPerPublish: eventsPerPublish
                )
                rates[eventsPerPublish]!.append(rate)
                bench.log(String(format: "(q) run %d, %d per PUB: %.0f events/s", run + 1, eventsPerPublish, rate))
            }
        }
        for eventsPerPublish in [1, 64] {
            let samples = rates[eventsPerPublish]!
            bench.rows.append(
                (
                    "(q) a worker's outbox of \(bench.outboxEvents) events drained into gridbusd (ReliablePublisher, \(eventsPerPublish) per PUB)",
                    bench.perSecond(median(samples)),
                    "samples: " + samples.map(bench.perSecond).joined(separator: ", ")
                        + (eventsPerPublish == 64 ? String(format: "; %.2f × one per PUB", median(samples) / median(rates[1]!)) : "")
                )
            )
        }
    }
}

/// (n) grid-stats' fold and queries, in process and behind gridbusd.
struct StatsFold: Measurement {
    static let letters = "n"

    static func run(_ bench: Bench) throws {
        let sample = try District.load(directory: bench.district)
        var rates: [Double] = []
        var p99s: [Double] = []
        var notes: [String] = []
        for run in 0..<bench.runs {
            let incidents = bench.statsIncidents
            let directory = bench.workDirectory
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
            bench.log("(n) run \(run + 1): " + notes.last!)
        }
        bench.rows.append(
            ("(n) grid-stats fold, \(bench.statsIncidents) incidents (3 events each)", bench.perSecond(median(rates)), notes.joined(separator: "; "))
        )
        var busRates: [Double] = []
        for run in 0..<bench.runs {
            let directory = bench.workDirectory
            let bin = bench.binDirectory
            let context = bench.context
            busRates.append(
                try blockingAsync {
                    try await measureStatsOverBus(bin: bin, workDirectory: directory, district: sample, incidents: 100_000, context: context)
                }
            )
            bench.log(String(format: "(n) run %d over the bus: %.0f events/s", run + 1, busRates.last!))
        }
        bench.rows.append(
            (
                "(n) grid-stats behind gridbusd, 300,000 events published and folded", bench.perSecond(median(busRates)),
                "samples: " + busRates.map(bench.perSecond).joined(separator: ", ")
            )
        )
        bench.rows.append(
            ("(n) grid-stats indicator query over them", String(format: "p99 %.1f ms", median(p99s)), "600 queries of six kinds per run")
        )
    }
}
