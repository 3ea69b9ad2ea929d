import Testing

@testable import gridbench

/// gridbench's notifier outage in (p): the option, the reading of grid-notifier's `/metrics`, and
/// the table in 15-second steps.
struct EndToEndOutageTests {
    static let second: UInt64 = 1_000_000_000
    static let ms: UInt64 = 1_000_000
    static let start: UInt64 = 1_000 * second

    @Test func theOutageIsAtColonSeconds() {
        #expect(NotifierOutage(parsing: "120:90")?.at == 120)
        #expect(NotifierOutage(parsing: "120:90")?.seconds == 90)
        for bad in ["120", "120:", ":90", "120:0", "-1:90", "1.5:90", "a:b", "1:2:3"] {
            #expect(NotifierOutage(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func aSampleReadsTheDueCountsAndTheReminderAge() throws {
        let text = """
            # HELP gridbus_notifier_open_notices Notices not settled yet.
            # TYPE gridbus_notifier_open_notices gauge
            gridbus_notifier_open_notices{status="sending",channel="webhook"} 64
            # TYPE gridbus_notifier_due gauge
            gridbus_notifier_due{kind="notice"} 12
            gridbus_notifier_due{kind="reminder"} 23456
            # TYPE gridbus_notifier_due_age_seconds gauge
            gridbus_notifier_due_age_seconds{kind="notice"} 0.25
            gridbus_notifier_due_age_seconds{kind="reminder"} 87.5

            """
        let sample = try #require(NotifierBacklogSample(metrics: text, at: 7))
        #expect(sample.at == 7 && sample.noticesDue == 12 && sample.remindersDue == 23456 && sample.reminderAge == 87.5)
        // Another service's metrics, or an answer cut short, is no sample.
        #expect(NotifierBacklogSample(metrics: "gridbus_stats_open_cases{town=\"T-01\"} 3\n", at: 7) == nil)
        #expect(NotifierBacklogSample(metrics: String(text.prefix(300)), at: 7) == nil)
    }

    @Test func reportsAndSamplesFallInTheStepTheyWereDueOrTakenIn() throws {
        // From 30 s into the run, 15-second steps. 30–45: ten reports of 5 ms and one of 2 s.
        // 45–60: the notifier is down (no sample); two reports whose notices came 20 s later.
        // 60–75: a sample with 3,000 reminders due, the oldest for 40 s; one report of 8 ms.
        let from = Self.start + 30 * Self.second
        var trips: [(due: UInt64, arrival: UInt64)] = (0..<10).map { n in
            let due = from + UInt64(n) * Self.second
            return (due, due + 5 * Self.ms)
        }
        trips.append((from + 14 * Self.second, from + 16 * Self.second))
        trips += [(from + 15 * Self.second, from + 35 * Self.second), (from + 20 * Self.second, from + 40 * Self.second)]
        trips.append((from + 31 * Self.second, from + 31 * Self.second + 8 * Self.ms))
        trips.append((from - Self.second, from))  // before the table: left out
        let first = try #require(NotifierBacklogSample(metrics: Self.metrics(notices: 1, reminders: 0, age: 0), at: from + 2 * Self.second))
        let second = try #require(NotifierBacklogSample(metrics: Self.metrics(notices: 64, reminders: 3000, age: 40), at: from + 32 * Self.second))
        let third = try #require(NotifierBacklogSample(metrics: Self.metrics(notices: 2, reminders: 1200, age: 12), at: from + 37 * Self.second))

        let table = EndToEndOutageReport.table(trips: trips, samples: [first, second, third], start: Self.start, from: from)
        let rows = table.split(separator: "\n").dropFirst(2).map(String.init)
        #expect(
            rows == [
                "| 30–45 | 11 | 5.0 | 2000.0 | 2000 | 1 | 0 | 0 |",
                "| 45–60 | 2 | 20000.0 | 20000.0 | 20000 | — | — | — |",
                "| 60–75 | 1 | 8.0 | 8.0 | 8 | 64 | 3000 | 40 |",
            ],
            "\(table)"
        )
    }

    static func metrics(notices: Int, reminders: Int, age: Int) -> String {
        "gridbus_notifier_due{kind=\"notice\"} \(notices)\ngridbus_notifier_due{kind=\"reminder\"} \(reminders)\n"
            + "gridbus_notifier_due_age_seconds{kind=\"notice\"} 0\ngridbus_notifier_due_age_seconds{kind=\"reminder\"} \(age)\n"
    }
}
