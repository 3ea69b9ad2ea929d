import Foundation
import GridBusClient
import GridDispatch
import GridDistrict
import GridSchema
import GridSecurity
import ZeroMQ

/// (a) libzmq's own XSUB/XPUB proxy, the baseline of (b) and (c).
struct ProxyBaseline: Measurement {
    static let letters = "a"

    static func run(_ bench: Bench) throws {
        var samples: [Double] = []
        for run in 0..<bench.runs {
            let ports = (try freePort(bench.context), try freePort(bench.context))
            let proxy = try Server(
                bench.binDirectory.appendingPathComponent("zmq-proxy-baseline"),
                ["tcp://127.0.0.1:\(ports.0)", "tcp://127.0.0.1:\(ports.1)"],
                log: "/tmp/gridbench-proxy.log"
            )
            defer { proxy.stop() }  // also when a measurement fails
            usleep(200_000)
            samples.append(
                try measureProxy(
                    context: bench.context,
                    frontend: "tcp://127.0.0.1:\(ports.0)",
                    backend: "tcp://127.0.0.1:\(ports.1)",
                    count: bench.events,
                    size: bench.size
                )
            )
            bench.log("(a) run \(run + 1): \(bench.perSecond(samples.last!))")
        }
        bench.baseline = median(samples)
        bench.rows.append(
            (
                "(a) libzmq XSUB/XPUB proxy (C), PUB→SUB, HWM 0", bench.perSecond(bench.baseline!),
                "samples: " + samples.map(bench.perSecond).joined(separator: ", ")
            )
        )
    }
}

/// (b) acknowledged publish, (c) live fan-out, (d) replay, (g) both with CURVE.
struct BusThroughput: Measurement {
    static let letters = "bcdg"

    static func run(_ bench: Bench) throws {
        var acked: [Double] = []
        var fanOut: [Double] = []
        var lost: [Int] = []
        var replayed: [Double] = []
        var curveAcked: [Double] = []
        var curveFanOut: [Double] = []
        var curveLost: [Int] = []
        var cpuPerEvent: [Double] = []
        var curveCPUPerEvent: [Double] = []
        let curve = bench.selected.contains("g") ? try CurveSetup(directory: bench.workDirectory + "/keys") : nil
        for run in 0..<bench.runs {
            // Alternating with the NULL-security run, so that both see the same machine noise.
            if let curve {
                let (daemon, ingress, egress, _) = try startDaemon(
                    bin: bench.binDirectory,
                    directory: bench.daemonDirectory,
                    extra: ["--journal-durability", bench.durability] + curve.daemonArguments
                )
                defer { daemon.stop() }
                let cpuBefore = daemon.cpuSeconds
                let result = try measurePublish(
                    context: bench.context,
                    ingress: ingress,
                    egress: egress,
                    count: bench.events,
                    size: bench.size,
                    window: bench.window,
                    credentials: curve.client
                )
                curveCPUPerEvent.append((daemon.cpuSeconds - cpuBefore) / Double(bench.events) * 1e6)
                curveAcked.append(result.ackedPerSecond)
                curveFanOut.append(result.fanOutPerSecond)
                curveLost.append(result.fanOutLost)
                bench.log(
                    "(g) run \(run + 1): CURVE acked \(bench.perSecond(result.ackedPerSecond)), fan-out \(bench.perSecond(result.fanOutPerSecond))"
                )
            }
            let (daemon, ingress, egress, replay) = try startDaemon(
                bin: bench.binDirectory,
                directory: bench.daemonDirectory,
                extra: ["--journal-durability", bench.durability]
            )
            defer { daemon.stop() }
            let cpuBefore = daemon.cpuSeconds
            let result = try measurePublish(
                context: bench.context,
                ingress: ingress,
                egress: egress,
                count: bench.events,
                size: bench.size,
                window: bench.window,
                perPublish: bench.eventsPerPublish
            )
            cpuPerEvent.append((daemon.cpuSeconds - cpuBefore) / Double(bench.events) * 1e6)
            acked.append(result.ackedPerSecond)
            fanOut.append(result.fanOutPerSecond)
            lost.append(result.fanOutLost)
            if bench.selected.contains("d") {
                replayed.append(try measureReplay(context: bench.context, replay: replay, expected: bench.events, batch: 10_000))
            }
            bench.log(
                "(b,c,d) run \(run + 1): acked \(bench.perSecond(result.ackedPerSecond)), fan-out \(bench.perSecond(result.fanOutPerSecond)) lost \(result.fanOutLost)"
                    + (replayed.last.map { ", replay \(bench.perSecond($0))" } ?? "")
            )
        }
        bench.gridbusdNumbers = (median(acked), median(fanOut))
        let ratio = { (value: Double) in bench.baseline.map { String(format: "%.2f × (a)", value / $0) } ?? "" }
        bench.rows.append(
            (
                "(b) gridbusd acked + journaled publish (durability \(bench.durability), window \(bench.window), \(bench.eventsPerPublish) per PUB)",
                bench.perSecond(median(acked)),
                ratio(median(acked)) + "; samples: " + acked.map(bench.perSecond).joined(separator: ", ")
                    + String(format: "; daemon CPU %.1f µs/event (publish + fan-out)", median(cpuPerEvent))
            )
        )
        bench.rows.append(
            (
                "(c) gridbusd live fan-out to one subscriber", bench.perSecond(median(fanOut)),
                ratio(median(fanOut)) + "; lost: \(lost.max() ?? 0); samples: " + fanOut.map(bench.perSecond).joined(separator: ", ")
            )
        )
        if !replayed.isEmpty {
            bench.rows.append(
                (
                    "(d) replay, batches of 10,000", bench.perSecond(median(replayed)),
                    "samples: " + replayed.map(bench.perSecond).joined(separator: ", ")
                )
            )
        }
        if !curveAcked.isEmpty {
            let cost = { (curve: Double, null: Double) in String(format: "%.2f × (b); CURVE costs %.0f%%", curve / null, (1 - curve / null) * 100)
            }
            bench.rows.append(
                (
                    "(g) as (b) with CURVE + ZAP + ACLs", bench.perSecond(median(curveAcked)),
                    cost(median(curveAcked), median(acked)) + "; samples: " + curveAcked.map(bench.perSecond).joined(separator: ", ")
                        + String(format: "; daemon CPU %.1f µs/event (publish + fan-out)", median(curveCPUPerEvent))
                )
            )
            bench.rows.append(
                (
                    "(g) as (c) with CURVE", bench.perSecond(median(curveFanOut)),
                    String(format: "%.2f × (c)", median(curveFanOut) / median(fanOut)) + "; lost: \(curveLost.max() ?? 0); samples: "
                        + curveFanOut.map(bench.perSecond).joined(separator: ", ")
                )
            )
        }
    }
}

/// (e) publish → ACK latency at a fixed rate.
struct PublishLatency: Measurement {
    static let letters = "e"

    static func run(_ bench: Bench) throws {
        var p50s: [Double] = []
        var p99s: [Double] = []
        var maxima: [Double] = []
        for run in 0..<bench.runs {
            let (daemon, ingress, _, _) = try startDaemon(
                bin: bench.binDirectory,
                directory: bench.daemonDirectory,
                extra: ["--journal-durability", bench.durability]
            )
            defer { daemon.stop() }
            let (p50, p99, maximum) = try measureLatency(
                context: bench.context,
                ingress: ingress,
                rate: bench.rate,
                seconds: 5,
                size: bench.size,
                offset: 0
            )
            p50s.append(p50)
            p99s.append(p99)
            maxima.append(maximum)
            bench.log(String(format: "(e) run %d: p50 %.0f µs, p99 %.0f µs, max %.0f µs", run + 1, p50, p99, maximum))
        }
        bench.rows.append(
            (
                "(e) publish→ACK latency at \(bench.rate) events/s for 5 s", String(format: "p50 %.0f µs, p99 %.0f µs", median(p50s), median(p99s)),
                "p99 samples: " + p99s.map { String(format: "%.0f µs", $0) }.joined(separator: ", ")
                    + String(format: "; max %.0f µs", maxima.max()!)
            )
        )
    }
}

/// (f) gridbusd's memory while a subscriber never reads.
struct StalledSubscriber: Measurement {
    static let letters = "f"

    static func run(_ bench: Bench) throws {
        let (daemon, ingress, egress, _) = try startDaemon(
            bin: bench.binDirectory,
            directory: bench.daemonDirectory,
            extra: ["--journal-durability", bench.durability]
        )
        defer { daemon.stop() }
        let (peak, before) = try measureStalled(
            context: bench.context,
            daemon: daemon,
            ingress: ingress,
            egress: egress,
            count: bench.stalledEvents,
            size: bench.size
        )
        bench.log("(f): peak RSS \(peak >> 20) MiB (before publishing \(before >> 20) MiB)")
        bench.rows.append(
            (
                "(f) gridbusd peak RSS, one subscriber stalled for \(bench.stalledEvents) events", "\(peak >> 20) MiB",
                "RSS before publishing: \(before >> 20) MiB; egress.high-water-mark 10,000 (default)"
            )
        )
    }
}
