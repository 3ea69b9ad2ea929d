import Foundation
import GridBusClient
import GridDispatch
import GridDistrict
import GridSchema
import GridSecurity
import ZeroMQ

/// (p) end to end: report → dispatch → webhook, with probes of the machine.
struct EndToEnd: Measurement {
    static let letters = "p"

    static func run(_ bench: Bench) throws {
        let sample = try District.load(directory: bench.district)
        let result = try measureEndToEnd(
            bin: bench.binDirectory,
            workDirectory: bench.workDirectory,
            context: bench.context,
            district: sample,
            districtDirectory: bench.district,
            rate: bench.e2eRate,
            seconds: bench.e2eSeconds,
            repeatInterval: bench.e2eRepeatInterval,
            acknowledgeAfter: bench.e2eAcknowledgeAfter,
            outage: bench.e2eNotifierOutage.flatMap(NotifierOutage.init(parsing:))
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
            + (bench.e2eAcknowledgeAfter.map {
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
        bench.log("(p): p99 \(String(format: "%.1f", result.p99)) ms; " + note)
        bench.rows.append(
            (
                "(p) POST /v1/incidents → incident.dispatched → signed webhook delivered, \(bench.e2eRate)/s for \(bench.e2eSeconds) s (one run)",
                String(format: "p99 %.1f ms", result.p99), note
            )
        )
        bench.sections.append("(p) minute by minute:\n\n" + EndToEndSeries.table(result.minutes, processes: result.processNames))
        if let outage = result.outage, let text = bench.e2eNotifierOutage {
            bench.sections.append("(p) grid-notifier killed and started again (\(text)), in 15-second steps from 30 s before:\n\n" + outage)
        }
    }
}
