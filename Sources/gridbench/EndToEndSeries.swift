import Foundation

/// (p) minute by minute: where in a long run the tail grows, and which process's CPU grows with it.
/// A single p99 over 25 minutes cannot tell a steady drift from a few bad minutes, nor a busy
/// process from a stalling disk; this table can.
struct EndToEndMinute {
    var minute: Int
    var reports: Int
    var p50: Double
    var p99: Double
    var slow: Int
    /// CPU seconds each process used in this minute, in the run's process order.
    var cpu: [Double]
    /// The longest probe fsync that started in this minute (ms).
    var longestSync: Double
    /// The p99 of each of ``EndToEndStages``' stages (ms), in its order.
    var stageP99: [Double]
    /// The ``CPUProbe``'s medians in this minute over its medians before the run (0: no runs):
    /// above 1, the machine itself was slower.
    var probeRatio: (compute: Double, memory: Double)
}

/// A resource sample taken every few seconds during the run.
struct ProcessSample {
    var at: UInt64
    var rss: [Int]
    var cpu: [Double]
}

enum EndToEndSeries {
    /// Buckets the reports by the minute they were due in, from `start` (ns).
    static func minutes(
        trips: [(due: UInt64, arrival: UInt64)],
        stages: [(due: UInt64, stages: EndToEndStages)],
        samples: [ProcessSample],
        syncs: [DiskProbe.Sync],
        probe: (runs: [CPUProbe.Run], idle: (compute: Double, memory: Double)),
        start: UInt64,
        seconds: Int
    ) -> [EndToEndMinute] {
        let minute: UInt64 = 60_000_000_000
        /// Each value in the bucket of the minute its report was due in.
        func bucketed<T>(_ items: [(due: UInt64, value: T)]) -> [[T]] {
            var buckets = [[T]](repeating: [], count: (seconds + 59) / 60)
            for item in items where item.due >= start {
                let index = Int((item.due - start) / minute)
                if index < buckets.count { buckets[index].append(item.value) }
            }
            return buckets
        }
        let byMinute = bucketed(trips.map { (due: $0.due, value: Double($0.arrival - $0.due) / 1e6) })
        let stagesByMinute = bucketed(stages.map { (due: $0.due, value: $0.stages) })
        return byMinute.indices.map { index in
            let latencies = byMinute[index].sorted()
            let from = start + UInt64(index) * minute
            let to = from + minute
            return EndToEndMinute(
                minute: index + 1,
                reports: latencies.count,
                p50: latencies.isEmpty ? 0 : latencies.quantile(0.5),
                p99: latencies.isEmpty ? 0 : latencies.quantile(0.99),
                slow: latencies.count { $0 >= 100 },
                cpu: cpuUsed(samples, from: from, to: to),
                longestSync: syncs.filter { $0.start >= from && $0.start < to }.map(\.milliseconds).max() ?? 0,
                stageP99: EndToEndStages.names.indices.map { stage in
                    let values = stagesByMinute[index].map { $0.values[stage] }.sorted()
                    return values.isEmpty ? 0 : values.quantile(0.99)
                },
                probeRatio: CPUProbe.ratios(probe.runs.filter { $0.start >= from && $0.start < to }, idle: probe.idle)
            )
        }
    }

    /// CPU used between the samples nearest `from` and `to`.
    private static func cpuUsed(_ samples: [ProcessSample], from: UInt64, to: UInt64) -> [Double] {
        guard let first = samples.last(where: { $0.at <= from }) ?? samples.first, let last = samples.last(where: { $0.at <= to }),
            last.at > first.at
        else { return [] }
        return zip(last.cpu, first.cpu).map { $0 - $1 }
    }

    /// A Markdown table, one row per minute.
    static func table(_ minutes: [EndToEndMinute], processes: [String]) -> String {
        var text =
            "| minute | reports | p50 ms | p99 ms | " + EndToEndStages.names.map { "p99 \($0) ms" }.joined(separator: " | ")
            + " | ≥ 100 ms | longest fsync ms | CPU probe × idle: compute / memory | " + processes.map { "\($0) CPU s" }.joined(separator: " | ")
            + " |\n"
        text += "| " + [String](repeating: "---", count: 7 + EndToEndStages.names.count + processes.count).joined(separator: " | ") + " |\n"
        for row in minutes {
            let cpu = row.cpu.isEmpty ? processes.map { _ in "–" } : row.cpu.map { String(format: "%.1f", $0) }
            text +=
                String(format: "| %d | %d | %.1f | %.1f | ", row.minute, row.reports, row.p50, row.p99)
                + row.stageP99.map { String(format: "%.1f", $0) }.joined(separator: " | ")
                + String(format: " | %d | %.0f | ", row.slow, row.longestSync)
                + (row.probeRatio.compute > 0 ? String(format: "%.2f / %.2f", row.probeRatio.compute, row.probeRatio.memory) : "–")
                + " | " + cpu.joined(separator: " | ") + " |\n"
        }
        return text
    }
}
