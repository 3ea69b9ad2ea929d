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
        let minutes = EndToEndSeries.minutes(trips: trips, stages: stages, samples: samples, syncs: syncs, start: Self.start, seconds: 120)
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
    }

    @Test func aReportOfAHundredMillisecondsOrMoreIsCountedAsSlow() {
        let trips = [(due: Self.start, arrival: Self.start + 100 * Self.ms), (due: Self.start + 1, arrival: Self.start + 99 * Self.ms)]
        let minutes = EndToEndSeries.minutes(trips: trips, stages: [], samples: [], syncs: [], start: Self.start, seconds: 60)
        #expect(minutes.map(\.slow) == [1])
        #expect(minutes[0].cpu.isEmpty)  // no samples: the table shows dashes
    }

    @Test func quantilesAreNearestRankOverTheSortedSamples() {
        let values = (1...100).map(Double.init)
        #expect(values.quantile(0.5) == 51)
        #expect(values.quantile(0.99) == 100)
        #expect([7.0].quantile(0.99) == 7)
        #expect(median([3, 1, 2]) == 2)
    }
}
