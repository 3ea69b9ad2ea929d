import Foundation
import Testing

@testable import gridbench

/// gridbench's minute-by-minute table for (p): each report in the minute it was due.
struct EndToEndSeriesTests {
    static let second: UInt64 = 1_000_000_000
    static let ms: UInt64 = 1_000_000
    static let start: UInt64 = 1_000 * second

    @Test func reportsStageTimesCPUAndDiskStallsFallInTheMinuteTheReportWasDue() throws {
        // Minute 1: 99 reports of 5 ms, one of 50 ms. Minute 2: 10 of 8 ms. One due before the
        // start and one after the end are left out.
        var trips: [(due: UInt64, arrival: UInt64)] = (0..<99).map { n in
            let due = Self.start + UInt64(n) * 500 * Self.ms
            return (due, due + 5 * Self.ms)
        }
        trips.append((Self.start + 59 * Self.second, Self.start + 59 * Self.second + 50 * Self.ms))
        trips += (0..<10).map { n in
            let due = Self.start + 60 * Self.second + UInt64(n) * Self.second
            return (due, due + 8 * Self.ms)
        }
        trips.append((Self.start - Self.second, Self.start))
        trips.append((Self.start + 120 * Self.second, Self.start + 121 * Self.second))
        let slow = Self.start + 59 * Self.second
        let stages = [
            (
                due: slow,
                stages: EndToEndStages(
                    due: slow,
                    answered: slow + 40 * Self.ms,
                    reported: slow + 42 * Self.ms,
                    dispatched: slow + 45 * Self.ms,
                    arrival: slow + 50 * Self.ms
                )!
            )
        ]
        let samples = [
            ProcessSample(at: Self.start, rss: [0, 0], cpu: [1, 10]),
            ProcessSample(at: Self.start + 60 * Self.second, rss: [0, 0], cpu: [4, 12]),
            ProcessSample(at: Self.start + 120 * Self.second, rss: [0, 0], cpu: [5, 20]),
        ]
        let syncs = [
            DiskProbe.Sync(start: Self.start + Self.second, milliseconds: 3),
            DiskProbe.Sync(start: Self.start + 30 * Self.second, milliseconds: 70),
            DiskProbe.Sync(start: Self.start + 61 * Self.second, milliseconds: 9),
        ]
        // The machine's speed: 1 ms (compute) and 2 ms (memory) before the run; in minute 1 runs of
        // 1.0, 1.5 and 2.0 ms and of 2, 3 and 4 ms (medians 1.5 and 3), none in minute 2.
        let probeRuns = [(1.0, 2.0), (1.5, 4.0), (2.0, 3.0)].enumerated().map {
            CPUProbe.Run(start: Self.start + UInt64($0.offset) * 10 * Self.second, compute: $0.element.0, memory: $0.element.1)
        }
        let minutes = EndToEndSeries.minutes(
            trips: trips,
            stages: stages,
            samples: samples,
            syncs: syncs,
            probe: (runs: probeRuns, idle: (compute: 1, memory: 2)),
            start: Self.start,
            seconds: 120
        )
        try #require(minutes.count == 2)
        #expect(minutes.map(\.minute) == [1, 2])
        #expect(minutes.map(\.reports) == [100, 10])
        #expect(minutes[0].p50 == 5)
        #expect(minutes[0].p99 == 50)  // nearest rank: the 100th of 100
        #expect(minutes[1].p99 == 8)
        #expect(minutes.map(\.slow) == [0, 0])
        #expect(minutes[0].cpu == [3, 2])
        #expect(minutes[1].cpu == [1, 8])
        #expect(minutes.map(\.longestSync) == [70, 9])
        #expect(minutes[0].stageP99 == [40, 2, 3, 5])
        #expect(minutes[1].stageP99 == [0, 0, 0, 0])  // no stages seen in that minute
        #expect(minutes[0].probeRatio == (compute: 1.5, memory: 1.5))
        #expect(minutes[1].probeRatio == (compute: 0, memory: 0))
        let table = EndToEndSeries.table(minutes, processes: ["a", "b"])
        let rows = table.split(separator: "\n")
        #expect(rows[0].contains("| longest fsync ms | CPU probe × idle: compute / memory | a CPU s | b CPU s |"))
        #expect(rows[2].contains("| 70 | 1.50 / 1.50 | 3.0 | 2.0 |"))
        #expect(rows[3].contains("| 9 | – | 1.0 | 8.0 |"))  // no probe run in minute 2
        #expect(rows.allSatisfy { $0.split(separator: "|").count == rows[0].split(separator: "|").count })
    }

    @Test func aReportOfAHundredMillisecondsOrMoreIsCountedAsSlow() {
        let trips = [(due: Self.start, arrival: Self.start + 100 * Self.ms), (due: Self.start + 1, arrival: Self.start + 99 * Self.ms)]
        let minutes = EndToEndSeries.minutes(trips: trips, stages: [], samples: [], syncs: [], probe: ([], (0, 0)), start: Self.start, seconds: 60)
        #expect(minutes.map(\.slow) == [1])
        #expect(minutes[0].cpu.isEmpty)  // no samples: the table shows dashes
    }

    @Test func theCPUProbeTimesItsFixedComputationInItsOwnCPUTime() throws {
        let probe = CPUProbe(memoryBytes: 1 << 20)
        let deadline = Date().addingTimeInterval(10)
        var runs: [CPUProbe.Run] = []
        while runs.count < 2 && Date() < deadline {
            usleep(50_000)
            runs = probe.peek()
        }
        let stopped = probe.stop()
        try #require(stopped.count >= 2)
        #expect(stopped.allSatisfy { $0.compute > 0 && $0.compute < 1_000 && $0.memory > 0 && $0.memory < 1_000 })
        #expect(zip(stopped, stopped.dropFirst()).allSatisfy { $0.start < $1.start })
        let summary = CPUProbe.summary(stopped, idle: CPUProbe.medians(stopped))
        #expect(summary.contains("ms, 1.00 × idle; memory median") && summary.hasSuffix("ms, 1.00 × idle (\(stopped.count) runs)"))
        #expect(CPUProbe.summary([]) == "no runs")
    }

    /// The memory walk must visit every place before it comes back, or the caches would hold it.
    @Test func theMemoryWalkIsOneCycleThroughEveryPlace() {
        let cycle = CPUProbe.randomCycle(count: 1_000)
        #expect(cycle.sorted() == (0..<1_000).map { UInt32($0) })
        var seen = Set<UInt32>()
        var position: UInt32 = 0
        for _ in 0..<1_000 {
            seen.insert(position)
            position = CPUProbe.walk(cycle, from: position, steps: 1)
        }
        #expect(seen.count == 1_000)
        #expect(position == 0)
        #expect(CPUProbe.walk(cycle, from: 0, steps: 1_000) == 0)
    }

    @Test func quantilesAreNearestRankOverTheSortedSamples() {
        let values = (1...100).map(Double.init)
        #expect(values.quantile(0.5) == 51)
        #expect(values.quantile(0.99) == 100)
        #expect([7.0].quantile(0.99) == 7)
        #expect(median([3, 1, 2]) == 2)
    }
}
