import Foundation
import GridBusTestSupport
import GridPostgres
import GridStore
import Testing

/// A worker's store on PostgreSQL sends a transaction's writes without waiting for each answer
/// (libpq's pipeline mode): what a worker sees must not change. A failure is its own savepoint's,
/// a lost lease fails the whole transaction wherever it surfaces, and values come back as written.
@Suite(.timeLimit(.minutes(2)))
struct PostgresStorePipelineTests {
    static func connection(fence: String? = nil) throws -> PostgresStoreConnection {
        let url = try PostgresURL(parsing: try PostgresTestServer.shared().makeDatabase("pipeline"))
        let connection = PostgresStoreConnection(url: url, password: nil, schema: "public", answerTimeout: 10)
        try connection.execute("CREATE TABLE items (id bigint PRIMARY KEY, note text)")
        connection.fence = fence
        return connection
    }

    static func ids(_ connection: PostgresStoreConnection) throws -> [Int64] {
        let select = try connection.prepare("SELECT id FROM items ORDER BY id")
        var ids: [Int64] = []
        while try select.step() { ids.append(select.int64(0)) }
        return ids
    }

    @Test func aTransactionsWritesCostOneRoundTrip() throws {
        let connection = try Self.connection()
        let before = connection.roundTrips
        try connection.transaction {
            let insert = try connection.prepare("INSERT INTO items (id, note) VALUES (?, ?)")
            for id in 1...50 {
                insert.bind(Int64(id), at: 1)
                insert.bind("n\(id)", at: 2)
                try insert.run()
            }
        }
        #expect(connection.roundTrips - before == 1, "BEGIN, fifty inserts and COMMIT answered together")
        #expect(try Self.ids(connection).count == 50)
    }

    @Test func aFailedWriteFailsItsOwnSavepointAndNoOther() throws {
        let connection = try Self.connection()
        try connection.execute("INSERT INTO items (id) VALUES (2)")
        let outcomes = try connection.transaction {
            try [1, 2, 3].map { id in
                try connection.savepoint("job") { try connection.execute("INSERT INTO items (id) VALUES (\(id))") }
            }
        }
        #expect(outcomes.map { (try? $0.get()) != nil } == [true, false, true])
        guard case .failure(let error) = outcomes[1] else { return }
        #expect((error as? PostgresLinkError)?.isUniqueViolation == true, "the duplicate key: \(error)")
        #expect("\(error)".contains("INSERT INTO items (id) VALUES (2)"), "the error names its statement: \(error)")
        #expect(try Self.ids(connection) == [1, 2, 3])
    }

    @Test func changesAreCountedWhenAsked() throws {
        let connection = try Self.connection()
        try connection.execute("INSERT INTO items (id) VALUES (1), (2), (3)")
        let (updated, deleted) = try connection.transaction {
            try connection.execute("UPDATE items SET note = 'x' WHERE id >= 2")
            let updated = connection.changes
            try connection.execute("SAVEPOINT s")
            try connection.execute("DELETE FROM items WHERE id = 3")
            try connection.execute("RELEASE s")
            return (updated, connection.changes)
        }
        #expect(updated == 2)
        #expect(deleted == 1, "a savepoint's commands do not count as changes, as in SQLite")
    }

    @Test func aLostLeaseFailsTheWholeTransactionEvenInsideASavepoint() throws {
        let connection = try Self.connection(fence: "SELECT 1 WHERE false")
        #expect(throws: LeaseLost.self) {
            try connection.transaction {
                _ = try connection.savepoint("job") { try connection.execute("INSERT INTO items (id) VALUES (1)") }
                _ = try connection.savepoint("job") { try connection.execute("INSERT INTO items (id) VALUES (2)") }
            }
        }
        connection.fence = nil
        #expect(try Self.ids(connection).isEmpty, "nothing committed")
    }

    @Test func aFailureOutsideASavepointFailsTheTransaction() throws {
        let connection = try Self.connection()
        #expect(throws: PostgresLinkError.self) {
            try connection.transaction {
                try connection.execute("INSERT INTO items (id) VALUES (1)")
                try connection.execute("INSERT INTO items (id) VALUES (1)")
                try connection.execute("INSERT INTO items (id) VALUES (3)")
            }
        }
        #expect(try Self.ids(connection).isEmpty)
        try connection.transaction { try connection.execute("INSERT INTO items (id) VALUES (4)") }
        #expect(try Self.ids(connection) == [4], "the next transaction starts clean")
    }

    @Test func valuesComeBackAsWritten() throws {
        let connection = try Self.connection()
        try connection.execute("CREATE TABLE kinds (n bigint, r double precision, t text, b bytea, flag boolean, empty bytea, missing text)")
        let bytes: [UInt8] = [0, 1, 0x5c, 0x78, 0xff, 0x7f, 10]
        try connection.transaction {
            let insert = try connection.prepare("INSERT INTO kinds VALUES (?, ?, ?, ?, true, ?, ?)")
            insert.bind(Int64.min, at: 1)
            insert.bind(-2.5e-7, at: 2)
            insert.bind("网格 \\x 'quoted' ;", at: 3)
            insert.bind(bytes, at: 4)
            insert.bind([UInt8](), at: 5)
            insert.bind(nil as String?, at: 6)
            try insert.run()
        }
        let select = try connection.prepare("SELECT n, r, t, b, flag, empty, missing, SUM(n / 2) OVER () FROM kinds")
        #expect(try select.step())
        #expect(select.int64(0) == Int64.min)
        #expect(select.double(1) == -2.5e-7)
        #expect(select.text(2) == "网格 \\x 'quoted' ;")
        #expect(select.blob(3) == bytes)
        #expect(select.int64(4) == 1)
        #expect(select.blob(5).isEmpty && !select.isNull(5))
        #expect(select.isNull(6) && select.text(6) == nil)
        #expect(select.int64(7) == Int64.min / 2, "a numeric sum read as an integer")
        #expect(try !select.step())
    }

    @Test func aConnectionLostInsideATransactionFailsItAndTheNextConnectsAgain() throws {
        let connection = try Self.connection()
        let server = try PostgresTestServer.shared()
        let pid = try connection.scalar("SELECT pg_backend_pid()")
        #expect(throws: PostgresLinkError.self) {
            try connection.transaction {
                try connection.execute("INSERT INTO items (id) VALUES (1)")
                try server.psql("SELECT pg_terminate_backend(\(pid))")
                try connection.execute("INSERT INTO items (id) VALUES (2)")
                _ = try connection.scalar("SELECT COUNT(*) FROM items")
            }
        }
        try connection.transaction { try connection.execute("INSERT INTO items (id) VALUES (3)") }
        #expect(try Self.ids(connection) == [3])
    }
}
