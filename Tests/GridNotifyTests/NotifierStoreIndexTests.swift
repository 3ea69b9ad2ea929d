import Foundation
import GridBusClient
import GridBusTestSupport
import GridStore
import Testing

@testable import GridNotify

/// The deliveries table keeps every notice ever sent; its indexes other than by incident hold only
/// the notices on their way, so the claim reads and writes a few small, cached indexes, not ones
/// that grow with the log.
@Suite struct NotifierStoreIndexTests {
    static let partialIndexes = ["deliveries_retry_message", "deliveries_sending", "deliveries_waiting_due", "deliveries_waiting_recipient"]

    func indexes(_ path: String) throws -> [String] {
        let connection = try SQLiteConnection(path: path)
        let statement = try connection.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries' AND sql IS NOT NULL ORDER BY name"
        )
        var names: [String] = []
        while try statement.step() { names.append(statement.text(0) ?? "") }
        return names
    }

    /// Each read of a claim takes a partial index in the order it asks for: no scan, and no sort of
    /// its own (a temporary b-tree opens and closes a pager each time).
    @Test func theClaimReadsAlongThePartialIndexesWithoutSorting() async throws {
        let path = TemporaryFiles.store("notifier")
        _ = try await NotifierTests.Fixture(path: path)
        let connection = try SQLiteConnection(path: path)
        #expect(try connection.queryPlan(NotifierStore.claimSQL.due) == ["SEARCH deliveries USING INDEX deliveries_waiting_due (due_ms<?)"])
        #expect(
            try connection.queryPlan(NotifierStore.claimSQL.waiting) == [
                "SEARCH deliveries USING INDEX deliveries_waiting_recipient (recipient_id=? AND channel=?)"
            ]
        )
        #expect(
            try connection.queryPlan(NotifierStore.claimSQL.retrying) == ["SEARCH deliveries USING INDEX deliveries_retry_message (message_id=?)"]
        )
        #expect(try connection.queryPlan(NotifierStore.cancelRemindersSQL) == ["SEARCH deliveries USING INDEX deliveries_incident (incident=?)"])
        for sql in [NotifierStore.claimSQL.due, NotifierStore.claimSQL.waiting, NotifierStore.claimSQL.retrying] {
            #expect(try connection.opcodes(sql).isDisjoint(with: ["OpenEphemeral", "SorterOpen"]), "\(sql)")
        }
        #expect(try indexes(path) == ["deliveries_incident"] + Self.partialIndexes)
    }

    /// A store of the notifier before has the full indexes: they go, the partial ones come, and a
    /// notice waiting in it is still claimed and sent.
    @Test func aStoreWithTheFullIndexesOfBeforeGetsThePartialOnes() async throws {
        let path = TemporaryFiles.store("notifier")
        var rules = NotifierRules()
        rules.groupWait = 30
        do {
            let before = try await NotifierTests.Fixture(rules: rules, path: path)
            try await before.register("inc-1")
            #expect(try await before.dispatch("inc-1") == 1)
            // As a notifier from before recorded migrations and the partial indexes left it.
            try await before.store.write { connection, _ in
                try connection.execute(
                    """
                    DROP TABLE gridbus_migrations;
                    DROP INDEX deliveries_waiting_due; DROP INDEX deliveries_waiting_recipient; DROP INDEX deliveries_sending;
                    DROP INDEX deliveries_retry_message;
                    CREATE INDEX deliveries_due ON deliveries (status, due_ms);
                    CREATE INDEX deliveries_message ON deliveries (message_id) WHERE message_id IS NOT NULL;
                    CREATE INDEX deliveries_recipient ON deliveries (recipient_id, channel, status, due_ms);
                    """
                )
            }
        }
        #expect(try indexes(path) == ["deliveries_due", "deliveries_incident", "deliveries_message", "deliveries_recipient"])

        let after = try await NotifierTests.Fixture(rules: rules, path: path)
        #expect(try indexes(path) == ["deliveries_incident"] + Self.partialIndexes)
        after.clock.advance(31)
        #expect(try await after.notifier.deliverDue() == 1)
        #expect(after.sms.envelopes.map { $0.notifications[0].incidentId } == ["inc-1"])
    }
}
