import Foundation
import GridBusTestSupport
import Logging
import Testing

@testable import GridNotify

/// The delivery loop (`DeliveryService`) with a real queue, the notifier's store and a test clock.
@Suite(.timeLimit(.minutes(1))) struct DeliveryServiceTests {
    /// After an outage every dispatch nobody acknowledged falls due for a reminder at once. The
    /// loop plans reminders only as there is room to send them, so a dispatch heard meanwhile is
    /// told within a few messages, not after the whole backlog (before, it came 21st of 21).
    @Test func aBacklogOfRemindersDoesNotHoldUpANewNotice() async throws {
        var rules = NotifierRules()
        rules.repeatInterval = 600
        let fixture = try await NotifierTests.Fixture(rules: rules)
        // Twenty cases, each for its own member: twenty messages, none grouped with another.
        let members = (1...21).map { String(format: "m-%05d", $0) }
        for (n, member) in members.dropLast().enumerated() {
            try await fixture.register("inc-\(n)")
            try await fixture.dispatch("inc-\(n)", to: [member])
        }
        fixture.clock.advance(30)  // the group wait
        #expect(try await fixture.notifier.deliverDue() == 20)
        let before = fixture.sms.envelopes.count

        fixture.clock.advance(600)  // nobody acknowledged: twenty reminders due at once
        fixture.sms.hold(true)  // and the gateway is slow
        let service = DeliveryService(notifier: fixture.notifier, interval: 0.01, queue: DeliveryQueue(limit: 2), logger: Logger(label: "test"))
        let running = Task { try await service.run() }
        defer { running.cancel() }
        #expect(try await eventually { fixture.sms.envelopes.count == before + 2 })  // two reminders at the gateway
        try await fixture.register("inc-new")
        try await fixture.dispatch("inc-new", to: [members.last!])
        fixture.clock.advance(30)  // its group wait
        fixture.sms.hold(false)

        func sent() -> [(type: String, incident: String?)] {
            fixture.sms.envelopes.dropFirst(before).flatMap { $0.notifications.map { ($0.type, $0.incidentId) } }
        }
        #expect(try await eventually { sent().count == 21 })
        #expect(sent().filter { $0.type == "reminder" }.count == 20)
        let position = try #require(sent().firstIndex { $0.type == "incident.dispatched" && $0.incident == "inc-new" })
        #expect(position <= 3, "the new dispatch was told \(position + 1)th of \(sent().count)")
    }

    /// After an outage a member has many reminders due at once. They go as one message, as other
    /// notices within a group wait do; planning reminders only by the room for messages must not
    /// split them into a message each (before, 30 reminders for 3 members took 30 messages, and a
    /// backlog of 28,000 took minutes to send: docs/benchmarks.md, run AP).
    @Test func aMembersDueRemindersGoAsOneMessage() async throws {
        var rules = NotifierRules()
        rules.repeatInterval = 600
        let fixture = try await NotifierTests.Fixture(rules: rules)
        let members = ["m-00001", "m-00003", "m-00007"]
        for n in 0..<30 {
            try await fixture.register("inc-\(n)")
            try await fixture.dispatch("inc-\(n)", to: [members[n % 3]])
        }
        fixture.clock.advance(30)
        try await fixture.notifier.deliverDue()
        let before = fixture.sms.envelopes.count

        fixture.clock.advance(600)  // thirty reminders due, ten for each member
        let service = DeliveryService(notifier: fixture.notifier, interval: 0.01, queue: DeliveryQueue(limit: 2), logger: Logger(label: "test"))
        let running = Task { try await service.run() }
        defer { running.cancel() }
        func reminders() -> [[String]] {
            fixture.sms.envelopes.dropFirst(before).map { $0.notifications.filter { $0.type == "reminder" }.compactMap(\.incidentId) }
        }
        #expect(try await eventually { reminders().joined().count == 30 })
        #expect(reminders().map(\.count) == [10, 10, 10], "\(reminders())")
    }

    /// A claim makes up to its room in messages, not in notices: a member with 120 notices due
    /// gets one full message, and the member after still gets the second.
    @Test func aClaimFillsItsRoomInMessages() async throws {
        let fixture = try await NotifierTests.Fixture()
        for n in 0..<120 {
            try await fixture.register("inc-a\(n)")
            try await fixture.dispatch("inc-a\(n)", to: ["m-00001"])
        }
        try await fixture.register("inc-b")
        try await fixture.dispatch("inc-b", to: ["m-00003"])
        fixture.clock.advance(30)

        let first = try await fixture.notifier.claimDue(limit: 2)
        #expect(first.map { $0.rows[0].recipient.id } == ["m-00001", "m-00003"])
        #expect(first.map(\.rows.count) == [NotifierStore.noticesPerMessage, 1])
        let second = try await fixture.notifier.claimDue(limit: 2)
        #expect(second.map(\.rows.count) == [20])
    }
}
