import Foundation
import GridBusClient
import GridBusTestSupport
import GridConfiguration
import GridPostgres
import GridStore
import Testing

/// `store.backend`, `store.url` and `store.password-file`, as every worker reads them.
@Suite struct StoreSettingsTests {
    func settings(_ arguments: [String], environment: [String: String] = [:]) async throws -> StoreSettings {
        try StoreSettings(
            reader: try await GridConfigReader.load(arguments: ["grid-worker"] + arguments, keys: StoreSettings.keys, environment: environment),
            environment: environment
        )
    }

    @Test func theDefaultIsTheWorkersOwnSQLiteFile() async throws {
        let settings = try await settings([])
        guard case .sqlite(let path) = settings.location(file: "var/intake/intake.sqlite", schema: "gridbus_intake") else {
            Issue.record("not SQLite")
            return
        }
        #expect(path == "var/intake/intake.sqlite")
    }

    @Test func postgreSQLTakesTheURLAndThePasswordFromTheEnvironment() async throws {
        let settings = try await settings(
            ["--store-backend", "postgresql", "--store-url", "postgresql://gridbus@db1:5432,db2:5432/gridbus?target_session_attrs=read-write"],
            environment: ["GRIDBUS_STORE_PASSWORD": "s3cret"]
        )
        guard case .postgresql(let url, let password, let schema) = settings.location(file: "unused", schema: "gridbus_intake") else {
            Issue.record("not PostgreSQL")
            return
        }
        #expect(url.hosts.map(\.name) == ["db1", "db2"] && url.target == .readWrite)
        #expect(password == "s3cret" && schema == "gridbus_intake")
        #expect(!settings.describe(file: "unused", schema: "gridbus_intake").contains("s3cret"))
    }

    @Test(arguments: [
        (["--store-backend", "postgresql"], "store.url", "required when store.backend is postgresql"),
        (["--store-url", "postgresql://gridbus@db1/gridbus"], "store.url", "only read with store.backend postgresql"),
        (["--store-backend", "oracle"], "store.backend", "must be one of: sqlite, postgresql"),
        (["--store-backend", "postgresql", "--store-url", "mysql://db1/gridbus"], "store.url", "postgresql"),
    ])
    func mistakesNameTheKey(arguments: [String], key: String, reason: String) async throws {
        do {
            _ = try await settings(arguments)
            Issue.record("accepted \(arguments)")
        } catch {
            #expect("\(error)".contains(key) && "\(error)".contains(reason), "\(error)")
        }
    }

    /// As on SQLite, a store a newer build migrated is refused rather than read with a schema this build does not know.
    @Test func aPostgreSQLStoreFromANewerBuildIsRefused() async throws {
        var newer = Migrations()
        newer.register("test 1 items", sql: "CREATE TABLE items (n INTEGER)", postgresql: ["CREATE TABLE items (n bigint)"])
        newer.register("test 2 more", sql: "ALTER TABLE items ADD COLUMN m INTEGER", postgresql: ["ALTER TABLE items ADD COLUMN m bigint"])
        let location = try testStore(TemporaryFiles.store("newer"), engine: .postgresql, schema: "newer")
        _ = try WorkerStore(location, migrations: newer)
        var older = Migrations()
        older.register("test 1 items", sql: "CREATE TABLE items (n INTEGER)", postgresql: ["CREATE TABLE items (n bigint)"])
        #expect(throws: MigrationError.unknownMigrations(["test 2 more"])) { try WorkerStore(location, migrations: older) }
    }
}
