import GridBusTestSupport
import GridStore
import Testing

/// A store's schema as its history: each migration once, in order, recorded; a failing one leaves
/// nothing behind; a store from a newer build is refused.
@Suite struct MigrationsTests {
    struct Refused: Error {}

    func tables(_ connection: SQLiteConnection) throws -> [String] {
        let statement = try connection.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'gridbus_%' ORDER BY name")
        var names: [String] = []
        while try statement.step() { names.append(statement.text(0) ?? "") }
        return names
    }

    @Test func eachMigrationRunsOnceInOrderAndIsRecorded() throws {
        let connection = try SQLiteConnection(path: TemporaryFiles.store("migrations"))
        var first = Migrations()
        first.register("test 1 items", sql: "CREATE TABLE items (id INTEGER PRIMARY KEY)")
        first.register("test 2 item names") { try $0.execute("ALTER TABLE items ADD COLUMN name TEXT") }
        #expect(try first.migrate(connection) == ["test 1 items", "test 2 item names"])
        #expect(try first.migrate(connection) == [], "a second start applies nothing")

        // A later build adds one at the end: only that one runs.
        var later = first
        later.register("test 3 tags", sql: "CREATE TABLE tags (name TEXT PRIMARY KEY)")
        #expect(try later.migrate(connection) == ["test 3 tags"])
        #expect(try Migrations.applied(connection) == ["test 1 items", "test 2 item names", "test 3 tags"])
        #expect(try tables(connection) == ["items", "tags"])
        #expect(try connection.scalar("SELECT COUNT(*) FROM pragma_table_info('items') WHERE name = 'name'") == 1)
    }

    @Test func listsShareAStoreInTheOrderTheyAreJoined() throws {
        let connection = try SQLiteConnection(path: TemporaryFiles.store("migrations"))
        var runtime = Migrations()
        runtime.register("runtime 1 outbox", sql: "CREATE TABLE outbox (id INTEGER PRIMARY KEY)")
        var worker = Migrations()
        worker.register("worker 1 cases", sql: "CREATE TABLE cases (id TEXT PRIMARY KEY)")
        #expect(try (runtime + worker).migrate(connection) == ["runtime 1 outbox", "worker 1 cases"])
    }

    @Test func aFailingMigrationLeavesNothingAndStopsTheOnesAfterIt() throws {
        let connection = try SQLiteConnection(path: TemporaryFiles.store("migrations"))
        var migrations = Migrations()
        migrations.register("test 1 items", sql: "CREATE TABLE items (id INTEGER PRIMARY KEY)")
        migrations.register("test 2 half done") { connection in
            try connection.execute("CREATE TABLE half (id INTEGER)")
            throw Refused()
        }
        migrations.register("test 3 never", sql: "CREATE TABLE never (id INTEGER)")
        #expect(throws: MigrationError.self) { try migrations.migrate(connection) }
        #expect(try tables(connection) == ["items"], "the failing migration's table was rolled back, the next one never ran")
        #expect(try Migrations.applied(connection) == ["test 1 items"])
    }

    @Test func aStoreMigratedByANewerBuildIsRefused() throws {
        let connection = try SQLiteConnection(path: TemporaryFiles.store("migrations"))
        var newer = Migrations()
        newer.register("test 1 items", sql: "CREATE TABLE items (id INTEGER PRIMARY KEY)")
        newer.register("test 2 from the future", sql: "CREATE TABLE future (id INTEGER)")
        try newer.migrate(connection)
        var older = Migrations()
        older.register("test 1 items", sql: "CREATE TABLE items (id INTEGER PRIMARY KEY)")
        #expect(throws: MigrationError.unknownMigrations(["test 2 from the future"])) { try older.migrate(connection) }
        #expect("\(MigrationError.unknownMigrations(["x"]))".contains("newer GridBus"))
    }

    /// A migration that commits in steps of its own (a long move) is recorded once it returns; one
    /// that failed part way runs again from the start and finishes what the first began.
    @Test func aMigrationInStepsOfItsOwnResumesAfterAFailure() throws {
        let connection = try SQLiteConnection(path: TemporaryFiles.store("migrations"))
        try connection.execute("CREATE TABLE old (n INTEGER PRIMARY KEY); CREATE TABLE new (n INTEGER PRIMARY KEY)")
        for n in 1...10 { try connection.execute("INSERT INTO old VALUES (\(n))") }
        func migrations(failAfter: Int?) -> Migrations {
            var migrations = Migrations()
            migrations.register("test 1 move", ownTransactions: true) { connection in
                var moved = 0
                while try connection.scalar("SELECT COUNT(*) FROM old") > 0 {
                    if let failAfter, moved == failAfter { throw Refused() }
                    try connection.transaction {
                        try connection.execute("INSERT INTO new SELECT n FROM old ORDER BY n LIMIT 3; DELETE FROM old WHERE n IN (SELECT n FROM new)")
                    }
                    moved += 1
                }
            }
            return migrations
        }
        #expect(throws: MigrationError.self) { try migrations(failAfter: 2).migrate(connection) }
        #expect(try connection.scalar("SELECT COUNT(*) FROM new") == 6, "the steps that committed stay")
        #expect(try Migrations.applied(connection) == [])
        #expect(try migrations(failAfter: nil).migrate(connection) == ["test 1 move"])
        #expect(try connection.scalar("SELECT COUNT(*) FROM new") == 10 && connection.scalar("SELECT COUNT(*) FROM old") == 0)
    }
}
