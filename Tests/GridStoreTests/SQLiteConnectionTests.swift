import Foundation
import GridStore
import Testing

@Suite struct SQLiteConnectionTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("gridstore-\(UUID().uuidString).sqlite").path

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
