import Foundation
import GridBusTestSupport
import GridStore
import Testing

/// The WAL is copied into the database file from the checkpointer's thread, not by a commit, and
/// stays bounded while a writer never stops.
@Suite(.timeLimit(.minutes(1)))
struct BackgroundCheckpointerTests {
    static func size(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0 }

    @Test func theWALReachesTheDatabaseFileWithoutACheckpointingCommit() async throws {
        let path = TemporaryFiles.store("checkpoint")
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

    /// Operators tell its thread from the concurrency pool's in `top -H` and /proc, and a name
    /// longer than Linux allows is cut to 15 bytes rather than refused.
    @Test func itsThreadCarriesItsName() async throws {
        let path = TemporaryFiles.store("checkpoint")
        let writer = try SQLiteConnection(path: path)
        try writer.execute("PRAGMA journal_mode = WAL")
        let checkpointer = BackgroundCheckpointer(path: path, interval: .milliseconds(20), name: "named-checkpointer")
        defer { checkpointer.stop() }
        func threadNames() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap {
                try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8).trimmingCharacters(in: .newlines)
            }
        }
        let deadline = ContinuousClock.now + .seconds(10)  // the thread names itself as it starts
        while try !threadNames().contains("named-checkpoin"), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try threadNames().contains("named-checkpoin"))
    }

    static func commit(_ rows: Range<Int>, on writer: SQLiteConnection) throws {
        try writer.transaction {
            let insert = try writer.prepare("INSERT INTO rows (n, text) VALUES (?, ?)")
            for n in rows {
                insert.bind(n, at: 1)
                insert.bind(String(repeating: "x", count: 200), at: 2)
                try insert.run()
            }
        }
    }

    /// A writer that commits while every checkpoint runs: the checkpointer's passive checkpoints
    /// never let SQLite start the WAL over, and it grows with everything written; the automatic
    /// checkpoint kept as a backstop bounds it (`WALCheckpointing.backstopPages`, here 64 pages).
    @Test func aWriterThatNeverPausesGetsABoundedWALFromTheBackstop() throws {
        func largestWAL(backstopPages: Int) throws -> Int {
            let path = TemporaryFiles.store("checkpoint")
            let writer = try SQLiteConnection(path: path)
            try writer.execute("PRAGMA journal_mode = WAL")
            try writer.execute("PRAGMA synchronous = OFF")  // commits as fast as the CPU allows: the writer never pauses
            try writer.execute("PRAGMA wal_autocheckpoint = \(backstopPages)")
            try writer.execute("CREATE TABLE rows (n INTEGER PRIMARY KEY, text TEXT NOT NULL)")
            let checkpointer = BackgroundCheckpointer(path: path, interval: .milliseconds(5))
            var largest = 0
            for batch in 0..<1200 {
                try Self.commit(batch * 50..<(batch + 1) * 50, on: writer)
                largest = max(largest, Self.size(path + "-wal"))
            }
            checkpointer.stop()
            #expect(try writer.scalar("SELECT COUNT(*) FROM rows") == 60_000)
            return largest
        }
        // 60,000 rows of 200 bytes: about 14 MB through the WAL.
        let bounded = try largestWAL(backstopPages: 64)
        let unbounded = try largestWAL(backstopPages: 0)
        #expect(bounded < 4 << 20, "largest WAL \(bounded) bytes with the backstop at 64 pages")
        #expect(unbounded > 2 * bounded, "largest WAL \(unbounded) bytes without a backstop, \(bounded) with")
    }
}
