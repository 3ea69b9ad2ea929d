import Foundation
import GridStore
import Testing

/// The WAL is copied into the database file from the checkpointer's thread, not by a commit.
@Suite(.timeLimit(.minutes(1)))
struct BackgroundCheckpointerTests {
    static func size(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0 }

    @Test func theWALReachesTheDatabaseFileWithoutACheckpointingCommit() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-\(UUID().uuidString).sqlite").path
        let writer = try SQLiteConnection(path: path)
        try writer.execute("PRAGMA journal_mode = WAL")
        try writer.execute("PRAGMA wal_autocheckpoint = 0")  // no commit checkpoints: only the checkpointer can
        try writer.execute("CREATE TABLE rows (n INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        try writer.transaction {
            let insert = try writer.prepare("INSERT INTO rows (n, text) VALUES (?, ?)")
            for n in 0..<2000 {
                insert.bind(n, at: 1)
                insert.bind(String(repeating: "x", count: 200), at: 2)
                try insert.run()
            }
        }
        let before = Self.size(path)
        #expect(before < 64 << 10)  // the rows are in the WAL only
        let checkpointer = BackgroundCheckpointer(path: path, interval: .milliseconds(20))
        defer { checkpointer.stop() }
        let deadline = ContinuousClock.now + .seconds(30)
        while Self.size(path) < 400 << 10, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(Self.size(path) >= 400 << 10)  // 2,000 rows of 200 bytes, now in the database file
        #expect(try writer.scalar("SELECT COUNT(*) FROM rows") == 2000)
    }
}
