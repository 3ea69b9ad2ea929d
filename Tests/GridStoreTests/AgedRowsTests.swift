import GridBusTestSupport
import GridStore
import Testing

/// Rows leave by age, oldest first, only those the condition allows, a batch at a time; the walk
/// stops at the first row stamped at or after the cutoff.
@Suite struct AgedRowsTests {
    func remaining(_ connection: SQLiteConnection) throws -> [String] {
        let statement = try connection.prepare("SELECT name FROM log ORDER BY rowid")
        var names: [String] = []
        while try statement.step() { names.append(statement.text(0) ?? "") }
        return names
    }

    @Test func oldRemovableRowsGoABatchAtATimeAndTheWalkStopsAtTheCutoff() throws {
        let connection = try SQLiteConnection(path: TemporaryFiles.store("aged-rows"))
        try connection.execute("CREATE TABLE log (name TEXT NOT NULL, at_ms INTEGER NOT NULL, done INTEGER NOT NULL)")
        // In the order added; "late" is stamped before "new" (a clock that went back), after the cutoff's row.
        for (name, at, done) in [("a", 100, 1), ("open", 110, 0), ("b", 120, 1), ("c", 130, 1), ("new", 500, 1), ("late", 140, 1)] {
            try connection.execute("INSERT INTO log VALUES ('\(name)', \(at), \(done))")
        }
        let aged = AgedRows(table: "log", stampColumn: "at_ms", removable: "done = 1")

        #expect(try aged.remove(before: 200, limit: 2, on: connection) == (2, true))
        #expect(try remaining(connection) == ["open", "c", "new", "late"])
        #expect(try aged.remove(before: 200, limit: 2, on: connection) == (1, false))
        #expect(try remaining(connection) == ["open", "new", "late"], "the row still open stays; the walk stopped at 'new'")
        #expect(try aged.remove(before: 200, limit: 2, on: connection) == (0, false))

        let everything = AgedRows(table: "log", stampColumn: "at_ms")
        #expect(try everything.remove(before: 1_000, limit: 10, on: connection) == (3, false))
        #expect(try remaining(connection).isEmpty)
    }
}
