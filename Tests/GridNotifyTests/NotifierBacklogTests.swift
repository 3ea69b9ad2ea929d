import Foundation
import GridBusTestSupport
import GridJSON
import GridStore
import Testing

@testable import GridNotify

/// What `/metrics` tells of the notifier's backlog: notices and reminders due and not yet taken up,
/// for how long, and the notices not settled yet; read from the store with a test clock.
@Suite struct NotifierBacklogTests {
    static let members = ["m-00001", "m-00003", "m-00007"]

    /// Three dispatches, each to its own member, heard at 10:00:00.
    func fixtureWithThreeDispatches() async throws -> NotifierTests.Fixture {
        var rules = NotifierRules()
        rules.groupWait = 30
        rules.repeatInterval = 600
        let fixture = try await NotifierTests.Fixture(rules: rules)
        for (n, member) in Self.members.enumerated() {
            try await fixture.register("inc-\(n)")
            try await fixture.dispatch("inc-\(n)", to: [member])
        }
        return fixture
    }

    @Test func noticesShowAsDueOnceTheirTimeHasComeAndUntilTheyAreClaimed() async throws {
        let fixture = try await fixtureWithThreeDispatches()
        var backlog = try await fixture.notifier.backlog()
        #expect(backlog.open == [.init(status: "pending", channel: "sms", count: 3)])
        #expect(backlog.notices == .init(count: 0, oldestDueAt: nil), "within the group wait nothing is due yet")

        fixture.clock.advance(45)  // due 15 s ago, and nothing has claimed them
        backlog = try await fixture.notifier.backlog()
        #expect(backlog.notices.count == 3)
        #expect(backlog.notices.oldestDueAt == (NotifierTests.morning.addingTimeInterval(30)).millisecondsSince1970)
        let text = try await fixture.notifier.metricsText()
        #expect(text.contains("gridbus_notifier_due{kind=\"notice\"} 3\n"), "\(text)")
        #expect(text.contains("gridbus_notifier_due_age_seconds{kind=\"notice\"} 15\n"), "\(text)")
        #expect(text.contains("gridbus_notifier_open_notices{status=\"pending\",channel=\"sms\"} 3\n"), "\(text)")
        #expect(text.contains("gridbus_notifier_open_notices{status=\"sending\",channel=\"email\"} 0\n"), "every status of every channel: \(text)")

        // Claimed (handed to a channel that has not answered): in flight, no longer due.
        #expect(try await fixture.notifier.claimDue(limit: 10).count == 3)
        backlog = try await fixture.notifier.backlog()
        #expect(backlog.open == [.init(status: "sending", channel: "sms", count: 3)])
        #expect(backlog.notices == .init(count: 0, oldestDueAt: nil))
        #expect(try await fixture.notifier.metricsText().contains("gridbus_notifier_due_age_seconds{kind=\"notice\"} 0\n"))
    }

    /// After an outage every unacknowledged dispatch falls due for a reminder at once; the ones the
    /// delivery loop has had no room to plan yet wait in the reminders table, and show there.
    @Test func remindersNotYetPlannedShowAsTheReminderBacklog() async throws {
        let fixture = try await fixtureWithThreeDispatches()
        fixture.clock.advance(30)
        #expect(try await fixture.notifier.deliverDue() == 3)
        #expect(try await fixture.notifier.backlog() == NotifierBacklog())

        fixture.clock.advance(660)  // 10:11:30: the reminders fell due at 10:10, ten minutes after the dispatches
        var backlog = try await fixture.notifier.backlog()
        #expect(backlog.reminders == .init(count: 3, oldestDueAt: (NotifierTests.morning.addingTimeInterval(600)).millisecondsSince1970))
        let text = try await fixture.notifier.metricsText()
        #expect(text.contains("gridbus_notifier_due{kind=\"reminder\"} 3\n"), "\(text)")
        #expect(text.contains("gridbus_notifier_due_age_seconds{kind=\"reminder\"} 90\n"), "\(text)")

        // Room for one: it becomes a notice due now; two reminders still wait.
        #expect(try await fixture.notifier.sweepReminders(limit: 1) == 1)
        backlog = try await fixture.notifier.backlog()
        #expect(backlog.reminders.count == 2)
        #expect(backlog.notices == .init(count: 1, oldestDueAt: fixture.clock.now.millisecondsSince1970))
    }

    /// A scrape every 15 s must not scan the log of every notice ever sent.
    @Test func theBacklogIsReadAlongTheDueIndexes() async throws {
        let path = TemporaryFiles.store("notifier")
        _ = try await NotifierTests.Fixture(path: path)
        let connection = try SQLiteConnection(path: path)
        #expect(
            try connection.queryPlan(NotifierStore.backlogSQL.open) == [
                "COMPOUND QUERY", "LEFT-MOST SUBQUERY", "SCAN deliveries USING INDEX deliveries_waiting_due", "USE TEMP B-TREE FOR GROUP BY",
                "UNION ALL", "SCAN deliveries USING INDEX deliveries_sending",
            ]
        )
        #expect(try connection.queryPlan(NotifierStore.backlogSQL.notices) == ["SEARCH deliveries USING INDEX deliveries_waiting_due (due_ms<?)"])
        #expect(try connection.queryPlan(NotifierStore.backlogSQL.reminders) == ["SEARCH reminders USING COVERING INDEX reminders_due (next_ms<?)"])
    }
}
