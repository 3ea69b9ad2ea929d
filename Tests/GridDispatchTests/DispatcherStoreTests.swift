import Foundation
import GridBusTestSupport
import GridPostgres
import GridSchema
import GridStore
import Testing

@testable import GridDispatch

/// How a case is written: in place, and its assignees (the load the assignment reads) kept in step.
@Suite struct DispatcherStoreTests {
    @Test func aCaseIsUpdatedInPlaceAndItsAssigneesFollow() throws {
        let connection = try SQLiteConnection(path: TemporaryFiles.store("dispatcher-store"))
        try DispatcherStore.migrations.migrate(connection)
        func rowid() throws -> Int64? {
            let statement = try connection.prepare("SELECT rowid FROM cases WHERE id = 'inc-0001'")
            return try statement.step() ? statement.int64(0) : nil
        }

        var item = DispatchCase(reported: .example)
        item.state = .dispatched
        item.assignees = ["m-1", "m-2"]
        try DispatcherStore.save(item, on: connection)
        let first = try #require(try rowid())
        #expect(try DispatcherStore.load(of: ["m-1", "m-2", "m-3"], on: connection) == ["m-1": 1, "m-2": 1])

        // Returned and dispatched again: one assignee stays, one goes, one comes.
        item.assignees = ["m-2", "m-3"]
        item.timerAt = Date(timeIntervalSince1970: 1_800_000_000)
        try DispatcherStore.save(item, on: connection)
        #expect(try rowid() == first, "the row was deleted and inserted again, not updated")
        #expect(try DispatcherStore.load("inc-0001", on: connection) == item)
        #expect(try DispatcherStore.load(of: ["m-1", "m-2", "m-3"], on: connection) == ["m-2": 1, "m-3": 1])

        // Closed: nobody carries it any more.
        item.state = .closed
        try DispatcherStore.save(item, on: connection)
        #expect(try DispatcherStore.load(of: ["m-1", "m-2", "m-3"], on: connection) == [:])
        #expect(try DispatcherStore.load("inc-0001", on: connection)?.state == .closed)
    }

    /// Request keys kept by a dispatcher from before recorded migrations (no stamp column) are
    /// stamped when the first migration adopts the store: remembered a whole window from then.
    @Test func requestKeysOfBeforeAreStampedAtTheUpgrade() throws {
        let connection = try SQLiteConnection(path: TemporaryFiles.store("dispatcher-store"))
        try connection.execute("CREATE TABLE processed (event_key TEXT PRIMARY KEY); INSERT INTO processed VALUES ('request inc-1 k1')")
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(try DispatcherStore.migrations.migrate(connection) == ["dispatcher 1 cases, assignments, turns, request keys, modes"])
        let after = Int64(Date().timeIntervalSince1970 * 1000) + 1
        let stamp = try connection.scalar("SELECT at_ms FROM processed WHERE event_key = 'request inc-1 k1'")
        #expect((before...after).contains(stamp))
        let upgrade = Date(timeIntervalSince1970: Double(stamp) / 1000)
        #expect(try DispatcherStore.firstTime("request inc-1 k1", at: upgrade, on: connection) == false)
        #expect(try DispatcherStore.firstTime("request inc-1 k2", at: upgrade.addingTimeInterval(1), on: connection))
        #expect(try connection.scalar("SELECT at_ms FROM processed WHERE event_key = 'request inc-1 k2'") == stamp + 1000)
        // Applied once: the next start finds it recorded and changes nothing.
        #expect(try DispatcherStore.migrations.migrate(connection) == [])
    }

    /// One dispatched case for each list of assignees.
    static func dispatch(_ assignments: [[String]], on connection: any StoreConnection) throws {
        for (number, assignees) in assignments.enumerated() {
            var report = IncidentReported.example
            report.incidentId = "inc-000\(number)"
            var item = DispatchCase(reported: report)
            item.state = .dispatched
            item.assignees = assignees
            try DispatcherStore.save(item, on: connection)
        }
    }

    /// Every assignment reads each candidate's load: a search of the covering index, without a
    /// temporary table, and a member named twice is counted once.
    @Test func theLoadIsOneIndexSearchPerMember() throws {
        let connection = try SQLiteConnection(path: TemporaryFiles.store("dispatcher-store"))
        try DispatcherStore.migrations.migrate(connection)
        #expect(try connection.queryPlan(DispatcherStore.loadSQL) == ["SEARCH assignments USING COVERING INDEX assignments_member (member=?)"])
        #expect(try connection.opcodes(DispatcherStore.loadSQL).isDisjoint(with: ["OpenEphemeral", "SorterOpen"]))
        try Self.dispatch([["m-1", "m-2"], ["m-2"], ["m-2", "m-3"]], on: connection)
        #expect(try DispatcherStore.load(of: ["m-2", "m-1", "m-2", "m-4"], on: connection) == ["m-1": 1, "m-2": 3])
        #expect(try DispatcherStore.load(of: [], on: connection) == [:])
    }

    /// On PostgreSQL, where every statement is a round trip, the load of the whole list is one.
    @Test func onPostgreSQLTheLoadOfAListIsOneStatement() throws {
        let url = try PostgresURL(parsing: try PostgresTestServer.shared().makeDatabase("dispatcher_load"))
        let link = PostgresLink(url: url, password: nil, logger: TestBus.logger())
        try PostgresMigrations(schema: "dispatcher", store: DispatcherStore.migrations).migrate(link)
        link.close()
        let connection = PostgresStoreConnection(url: url, password: nil, schema: "dispatcher")
        let quoted = "m-\"5\" \\ o'brien"
        try connection.transaction { try Self.dispatch([["m-1", "m-2"], ["m-2"], ["m-2", quoted]], on: connection) }
        let before = connection.roundTrips
        #expect(try DispatcherStore.load(of: ["m-2", "m-1", "m-2", "m-4", quoted], on: connection) == ["m-1": 1, "m-2": 3, quoted: 1])
        #expect(connection.roundTrips == before + 1)
        #expect(try DispatcherStore.load(of: [], on: connection) == [:])
    }
}
