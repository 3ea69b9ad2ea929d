import Foundation
import GridBusClient
import GridBusTestSupport
import GridStore
import Testing

/// The workers wrap each event of a batch in a savepoint. What SQLite keeps to roll one back
/// stays in memory: a batch that changes many pages opens no temporary file (SQLite's default
/// spills past 64 KiB, a file created per transaction and two writes per page).
@Suite struct WorkerStoreSavepointTests {
    /// The temporary files this process holds open: SQLite names them `etilqs_…` and unlinks them at once.
    static func openTemporaryFiles() -> Int {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return descriptors.count { descriptor in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + descriptor))?.contains("etilqs_") == true
        }
    }

    @Test func aBatchOfSavepointsOverManyPagesOpensNoTemporaryFile() async throws {
        let path = TemporaryFiles.store("savepoints")
        let store = try WorkerStore(path: path)
        try await store.write { connection, _ in
            try connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            for id in 0..<400 { try connection.execute("INSERT INTO items VALUES (\(id), zeroblob(1000))") }
        }
        let (held, changed) = try await store.write(durable: false) { connection, _ in
            // Forty events, each rewriting every row: each savepoint journals all ~100 pages.
            for event in 0..<40 {
                _ = try connection.savepoint("event") { try connection.execute("UPDATE items SET body = zeroblob(\(1000 + event))") }
            }
            return (Self.openTemporaryFiles(), try connection.scalar("SELECT SUM(length(body)) FROM items"))
        }
        #expect(changed == 400 * 1039)
        #expect(held == 0)
    }
}
