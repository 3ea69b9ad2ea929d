import Foundation
import GridBusTestSupport
import GridJSON
import GridSchema
import GridStore
import Testing

@testable import GridNotify

/// `GET /v1/reminders`: the reminders still to come, for an operator asking who is being reminded
/// of what, and when next.
@Suite struct WaitingRemindersTests {
    @Test func theRemindersToComeAreListedByIncidentByMemberOrAllSoonestFirst() async throws {
        var rules = NotifierRules()
        rules.repeatInterval = 600
        rules.repeatLimit = 3
        let fixture = try await NotifierTests.Fixture(rules: rules)
        try await fixture.register("inc-1")
        try await fixture.dispatch("inc-1", to: ["m-00001", "m-00003"])
        fixture.clock.advance(60)
        try await fixture.register("inc-2")
        try await fixture.dispatch("inc-2", to: ["m-00003"])
        func at(_ seconds: Double) -> String { RFC3339.format(NotifierTests.morning.addingTimeInterval(seconds)) }

        #expect(
            try await fixture.notifier.waitingReminders() == [
                .init(incident: "inc-1", recipient: "m-00001", dispatch: "inc-1-2", sent: 0, left: 3, nextAt: at(600)),
                .init(incident: "inc-1", recipient: "m-00003", dispatch: "inc-1-2", sent: 0, left: 3, nextAt: at(600)),
                .init(incident: "inc-2", recipient: "m-00003", dispatch: "inc-2-2", sent: 0, left: 3, nextAt: at(660)),
            ]
        )
        #expect(try await fixture.notifier.waitingReminders(incident: "inc-1").map(\.recipient) == ["m-00001", "m-00003"])
        #expect(try await fixture.notifier.waitingReminders(recipient: "m-00003").map(\.incident) == ["inc-1", "inc-2"])
        #expect(try await fixture.notifier.waitingReminders(incident: "inc-1", recipient: "m-00003").map(\.recipient) == ["m-00003"])
        #expect(try await fixture.notifier.waitingReminders(limit: 1).map(\.recipient) == ["m-00001"])
        #expect(try await fixture.notifier.waitingReminders(incident: "inc-9").isEmpty)

        // The first reminders of inc-1 go at 10:10; the next are due at 10:20.
        fixture.clock.advance(540)
        #expect(try await fixture.notifier.sweepReminders() == 2)
        #expect(
            try await fixture.notifier.waitingReminders(incident: "inc-1").map { "\($0.sent) \($0.left) \($0.nextAt)" } == [
                "1 2 \(at(1200))", "1 2 \(at(1200))",
            ]
        )
        // Acknowledged: nothing more to come for inc-1.
        try await fixture.hear(IncidentAcknowledged(incidentId: "inc-1", by: "m-00001"), id: "inc-1-3", subject: "inc-1")
        #expect(try await fixture.notifier.waitingReminders().map(\.incident) == ["inc-2"])
    }

    /// Each read goes along an index, never through every open dispatch.
    @Test func theListIsReadAlongTheRemindersIndexes() async throws {
        let path = TemporaryFiles.store("notifier")
        _ = try await NotifierTests.Fixture(path: path)
        let connection = try SQLiteConnection(path: path)
        #expect(
            try connection.queryPlan(NotifierStore.waitingRemindersSQL.incident).first
                == "SEARCH reminders USING INDEX sqlite_autoindex_reminders_1 (incident=?)"
        )
        #expect(
            try connection.queryPlan(NotifierStore.waitingRemindersSQL.recipient) == [
                "SEARCH reminders USING INDEX reminders_recipient (recipient_id=?)"
            ]
        )
        #expect(try connection.queryPlan(NotifierStore.waitingRemindersSQL.all) == ["SCAN reminders USING INDEX reminders_due"])
    }
}
