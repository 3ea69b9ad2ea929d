import Testing

@testable import gridbench

/// How gridbench splits a report's trip into stages (docs/benchmarks.md, (p)).
struct EndToEndStagesTests {
    static let ms: UInt64 = 1_000_000

    @Test func eachStageRunsFromTheEndOfTheOneBefore() throws {
        let stages = try #require(
            EndToEndStages(
                due: 1_000 * Self.ms,
                answered: 1_004 * Self.ms,
                reported: 1_006 * Self.ms,
                dispatched: 1_013 * Self.ms,
                arrival: 1_020 * Self.ms
            )
        )
        #expect(stages.values == [4, 2, 7, 7])
        #expect(stages.values.reduce(0, +) == 20)  // the whole trip
    }

    /// The bus may fan `incident.reported` out before the intake's 201 reaches the client.
    @Test func aReportOnTheBusBeforeItsAnswerTakesNoPublishTime() throws {
        let stages = try #require(
            EndToEndStages(due: 0, answered: 5 * Self.ms, reported: 3 * Self.ms, dispatched: 9 * Self.ms, arrival: 12 * Self.ms)
        )
        #expect(stages.values == [5, 0, 4, 3])
        #expect(stages.values.reduce(0, +) == 12)
    }

    /// A watcher that hears the dispatch after the webhook arrived: no stage is negative, and the
    /// stages then add up to the last thing seen, not to the trip.
    @Test func aDispatchHeardAfterTheWebhookLeavesNotifyAtZero() throws {
        let stages = try #require(
            EndToEndStages(due: 0, answered: 2 * Self.ms, reported: 4 * Self.ms, dispatched: 15 * Self.ms, arrival: 11 * Self.ms)
        )
        #expect(stages.values == [2, 2, 11, 0])
        #expect(stages.values.allSatisfy { $0 >= 0 })
    }

    @Test func aReportTheWatcherDidNotSeeOnTheBusHasNoStages() {
        #expect(EndToEndStages(due: 0, answered: 1, reported: nil, dispatched: 2, arrival: 3) == nil)
        #expect(EndToEndStages(due: 0, answered: 1, reported: 2, dispatched: nil, arrival: 3) == nil)
    }

    @Test func theIncidentIsFoundInTheEventsDataWithoutDecodingIt() {
        let event = Array(
            #"{"specversion":"1.0","id":"e-1","source":"grid-dispatcher","type":"incident.dispatched","data":{"incidentId":"inc-42","caseId":"c-7"}}"#
                .utf8
        )
        #expect(StageWatcher.incidentID(in: event) == "inc-42")
        #expect(StageWatcher.incidentID(in: Array(#"{"data":{"caseId":"c-7"}}"#.utf8)) == nil)
        #expect(StageWatcher.incidentID(in: Array(#"{"data":{"incidentId":"unterminated"#.utf8)) == nil)
    }

    /// The slowest 1 % of reports is judged by the whole trip, and each stage's share of it reported.
    @Test func theSummaryNamesEachStagesShareOfTheSlowestReports() throws {
        // 99 quick reports (1 ms a stage) and one slow one whose time is all in accept.
        var all = (0..<99).map { _ in EndToEndStages(due: 0, answered: Self.ms, reported: 2 * Self.ms, dispatched: 3 * Self.ms, arrival: 4 * Self.ms)!
        }
        all.append(EndToEndStages(due: 0, answered: 90 * Self.ms, reported: 91 * Self.ms, dispatched: 92 * Self.ms, arrival: 93 * Self.ms)!)
        let summary = EndToEndStages.summary(all)
        #expect(summary.contains("accept p50 1.0 / p99 90.0 ms, 90.0 ms in the slowest 1 %"))
        #expect(summary.contains("notify p50 1.0 / p99 1.0 ms, 1.0 ms in the slowest 1 %"))
        #expect(EndToEndStages.summary([]) == "no report was seen on the bus")
    }
}
