import Foundation
import GridBusTestSupport
import GridStore
import Testing

@Suite struct SQLiteConnectionTests {
    let path = TemporaryFiles.store("gridstore")

    @Test func preparedStatementsBindAndReadEveryType() throws {
        let connection = try SQLiteConnection(path: path)
        try connection.execute("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)")
        let insert = try connection.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?)")
        insert.bind(Int64.max, at: 1)
        insert.bind(2.5, at: 2)
        insert.bind("网格", at: 3)
        insert.bind([0, 1, 255], at: 4)
        insert.bindNull(at: 5)
        try insert.run()
        let select = try connection.prepare("SELECT i, s, b, n FROM t")
        #expect(try select.step())
        #expect(select.int64(0) == Int64.max)
        #expect(select.text(1) == "网格")
        #expect(select.blob(2) == [0, 1, 255])
        #expect(select.isNull(3))
        #expect(try !select.step())
    }

    /// Compiled statements are kept for the next `prepare` of the same SQL once released: a reused
    /// one starts reset, with no bindings, and holds no read snapshot from its last use.
    @Test func aReleasedStatementIsReusedResetAndWithoutItsBindings() throws {
        let connection = try SQLiteConnection(path: path)
        try connection.execute("CREATE TABLE t (k INTEGER)")
        let sql = "SELECT COUNT(*), ? FROM t"
        do {
            let first = try connection.prepare(sql)
            first.bind(7, at: 1)
            #expect(try first.step())  // left in the middle: a read snapshot is open
            #expect(first.int64(1) == 7)
            let second = try connection.prepare(sql)  // the same SQL while the first is in use: its own statement
            #expect(try second.step())
            #expect(second.isNull(1))
        }
        let writer = try SQLiteConnection(path: path)
        try writer.execute("INSERT INTO t VALUES (1)")  // would wait on a snapshot held in WAL-less mode
        let again = try connection.prepare(sql)
        #expect(try again.step())
        #expect(again.int64(0) == 1)  // sees the other connection's row: no stale snapshot
        #expect(again.isNull(1))  // no binding left from the last use
        let error = #expect(throws: SQLiteError.self) { try connection.execute("INSERT INTO missing VALUES (1)") }
        #expect(error?.operation == "execute INSERT INTO missing VALUES (1)")
    }

    @Test func aFailedTransactionLeavesNothingBehind() throws {
        let connection = try SQLiteConnection(path: path)
        try connection.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try connection.transaction {
                try connection.execute("INSERT INTO t VALUES ('a')")
                throw Boom()
            }
        }
        #expect(try connection.scalar("SELECT COUNT(*) FROM t") == 0)
    }

    /// One item of a batch that fails takes back only its own changes; the transaction goes on.
    @Test func aFailedSavepointTakesBackOnlyItsOwnChanges() throws {
        let connection = try SQLiteConnection(path: path)
        try connection.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        struct Boom: Error {}
        let outcomes = try connection.transaction {
            try ["a", "b", "c"].map { key in
                try connection.savepoint("item") {
                    try connection.execute("INSERT INTO t VALUES ('\(key)')")
                    if key == "b" { throw Boom() }
                    return key
                }
            }
        }
        #expect(outcomes.map { (try? $0.get()) ?? "failed" } == ["a", "failed", "c"])
        #expect(try connection.scalar("SELECT COUNT(*) FROM t") == 2)
        #expect(try connection.scalar("SELECT COUNT(*) FROM t WHERE k = 'b'") == 0)
    }

    @Test func errorsCarryCodeMessageAndOperation() throws {
        let connection = try SQLiteConnection(path: path)
        try connection.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        try connection.execute("INSERT INTO t VALUES ('a')")
        let error = #expect(throws: SQLiteError.self) { try connection.execute("INSERT INTO t VALUES ('a')") }
        #expect(error?.isConstraint == true)
        #expect(error?.description.contains("UNIQUE") == true)
        #expect(throws: SQLiteError.self) { try connection.prepare("SELECT nonsense FROM nowhere") }
        #expect(throws: SQLiteError.self) { try SQLiteConnection(path: "/nonexistent/dir/x.sqlite") }
    }

    @Test func aFullDatabaseReportsFull() throws {
        let connection = try SQLiteConnection(path: path)
        try connection.execute("CREATE TABLE t (b BLOB)")
        try connection.execute("PRAGMA max_page_count = 8")
        let insert = try connection.prepare("INSERT INTO t VALUES (?)")
        let error = #expect(throws: SQLiteError.self) {
            for _ in 0..<100 {
                insert.bind([UInt8](repeating: 1, count: 4096), at: 1)
                try insert.run()
            }
        }
        #expect(error?.isFull == true)
    }
}
