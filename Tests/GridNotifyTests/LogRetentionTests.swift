import Foundation
import GridBusClient
import GridBusTestSupport
import GridConfiguration
import Testing

@testable import GridNotify

/// The notification log keeps settled notices for `notification-log.max-age`; notices still on
/// their way stay however old, and the configuration refuses an age too short to mean anything.
@Suite struct LogRetentionTests {
    @Test func settledNoticesLeaveTheLogWithAgeAndTheOnesOnTheirWayStay() async throws {
        var rules = NotifierRules()
        rules.groupWait = 30
        let fixture = try await NotifierTests.Fixture(rules: rules)
        // At 10:00:00, two dispatches; sent at 10:00:31.
        for (incident, member) in [("inc-1", "m-00001"), ("inc-2", "m-00003")] {
            try await fixture.register(incident)
            try await fixture.dispatch(incident, to: [member])
        }
        fixture.clock.advance(31)
        #expect(try await fixture.notifier.deliverDue() == 2)
        // At 10:00:31 a third, handed to its channel at 10:01:02 and never answered (in doubt).
        try await fixture.register("inc-3")
        try await fixture.dispatch("inc-3", to: ["m-00007"])
        fixture.clock.advance(31)
        let inDoubt = try await fixture.notifier.claimDue(limit: 10)
        #expect(inDoubt.count == 1)
        // At 10:01:02 a fourth, waiting for its group wait.
        try await fixture.register("inc-4")
        try await fixture.dispatch("inc-4", to: ["m-00001"])

        // At 10:01:40, a minute's age: the two sent ones go (one per batch), the one in doubt stays.
        fixture.clock.advance(38)
        #expect(try await fixture.notifier.logRetention(maxAge: 60, batch: 1).pass() == 2)
        #expect(try await fixture.notifier.log(incident: "inc-1").isEmpty)
        #expect(try await fixture.notifier.log(incident: "inc-2").isEmpty)
        #expect(try await fixture.notifier.log(incident: "inc-3").map(\.status) == ["sending"])
        #expect(try await fixture.notifier.log(incident: "inc-4").map(\.status) == ["pending"])
        #expect(try await fixture.notifier.metricsText().contains("gridbus_notifier_log_removed_total 2\n"))

        // At 10:01:41 both are sent: the one in doubt, planned more than a minute ago, goes now;
        // the fourth once it is a minute old too.
        fixture.clock.advance(1)
        try await fixture.notifier.deliver(inDoubt[0])
        #expect(try await fixture.notifier.deliverDue() == 1)
        #expect(try await fixture.notifier.logRetention(maxAge: 60).pass() == 1)
        #expect(try await fixture.notifier.log(incident: "inc-3").isEmpty)
        #expect(try await fixture.notifier.log(incident: "inc-4").map(\.status) == ["sent"])
        fixture.clock.advance(60)
        #expect(try await fixture.notifier.logRetention(maxAge: 60).pass() == 1)
        #expect(try await fixture.notifier.log(incident: "inc-4").isEmpty)
        #expect(try await fixture.notifier.metricsText().contains("gridbus_notifier_log_removed_total 4\n"))
    }

    func configuration(_ arguments: [String]) async throws -> NotifierConfiguration {
        try NotifierConfiguration(
            reader: try await GridConfigReader.load(
                arguments: ["grid-notifier", "--auth-mode", "none"] + arguments,
                keys: NotifierConfiguration.keys,
                environment: [:]
            )
        )
    }

    @Test func theMaximumAgeIsZeroOrAtLeastADay() async throws {
        #expect(try await configuration([]).notificationLogMaxAge == 90 * 86_400)
        #expect(try await configuration(["--notification-log-max-age", "0"]).notificationLogMaxAge == 0)
        #expect(try await configuration(["--notification-log-max-age", "14d"]).notificationLogMaxAge == 14 * 86_400)
        do {
            _ = try await configuration(["--notification-log-max-age", "12h"])
            Issue.record("a max-age of 12h was taken")
        } catch let error as ConfigurationError {
            #expect(error.key == "notification-log.max-age")
            #expect(error.description.contains("'12h'") && error.description.contains("at least 1d"), "\(error)")
        }
    }
}
