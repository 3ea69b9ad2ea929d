import Foundation
import GridBusTestSupport
import GridSchema
import GridStore
import Testing

@testable import GridBusDaemon

/// What only the SQLite journal does: chunks, the file's size cap, moving a journal from before
/// chunks. The contract both backends keep is in JournalContractTests.
@Suite struct JournalTests {
    let path = TemporaryFiles.store("journal")

    func incoming(_ id: String, source: String = "test", grid: String? = "G-1", padding: Int = 0) throws -> IncomingEvent {
        try JournalContractTests.incoming(id, source: source, grid: grid, padding: padding)
    }

    @Test func aFullJournalFailsTheWholeBatchAndKeepsItsHead() throws {
        let journal = try SQLiteJournal(path: path, durability: .normal, maxFileSize: 128 * 1024)
        var appended = 0
        var failure: String?
        for batch in 0..<200 {
            let result = journal.append((0..<10).map { try! incoming("b\(batch)-\($0)", padding: 1000) }, receivedAt: 1)
            if case .failed(let reason) = result.outcomes.first {
                failure = reason
                #expect(result.written.isEmpty)
                #expect(result.outcomes.allSatisfy { if case .failed = $0 { true } else { false } })
                break
            }
            appended += 10
        }
        #expect(failure?.contains("full") == true)
        #expect(journal.head == UInt64(appended))
        // Retention frees space; the journal then accepts again, the failed batch's events as new ones.
        try journal.enforceRetention(now: Date(), maxAge: .infinity, maxBytes: 10_000)
        let failedBatch = appended / 10
        #expect(
            journal.append([try incoming("after"), try incoming("b\(failedBatch)-0")], receivedAt: 2).outcomes
                == [.appended(UInt64(appended) + 1), .appended(UInt64(appended) + 2)]
        )
    }

    @Test func aLargeGroupCommitIsSplitIntoChunksThatReplayReadsAcross() throws {
        let journal = try SQLiteJournal(path: path, durability: .normal)
        let written = journal.append((0..<200).map { try! incoming("e\($0)", padding: 1000) }, receivedAt: 1).written
        #expect(written.map(\.sequence) == Array(1...200))
        let check = try SQLiteConnection(path: path, readOnly: true)
        let chunks = try check.scalar("SELECT COUNT(*) FROM event_chunks")
        #expect(chunks >= 3 && chunks <= 4, "200 events of about 1.2 KiB in chunks of 64 KiB")
        #expect(try check.scalar("SELECT COUNT(*) FROM event_chunks WHERE length(records) > \(JournalChunk.targetBytes + 2048)") == 0)
        // From the middle of a chunk, across the next, in pages; the scan limit counts events.
        let reader = try SQLiteJournalReader(path: path)
        let page = try reader.read(after: 40, prefixes: [[]], limit: 100, scanLimit: 1000)
        #expect(page.entries == Array(written[40..<140]) && page.lastExamined == 140)
        let sparse = try reader.read(after: 140, prefixes: [Array("nothing".utf8)], limit: 100, scanLimit: 30)
        #expect(sparse.entries.isEmpty && sparse.lastExamined == 170)
        #expect(try reader.read(after: 200, prefixes: [[]], limit: 100, scanLimit: 1000).entries.isEmpty)
        // A duplicate of an event in an earlier chunk is found after reopening.
        let reopened = try SQLiteJournal(path: path, durability: .normal)
        #expect(
            reopened.append([try incoming("e57", padding: 1000), try incoming("e199", padding: 1000)], receivedAt: 2).outcomes
                == [.duplicate(58), .duplicate(200)]
        )
    }

    @Test func retentionRemovesWholeChunks() throws {
        let journal = try SQLiteJournal(path: path, durability: .normal)
        _ = journal.append((0..<5).map { try! incoming("a\($0)") }, receivedAt: 1)
        _ = journal.append((0..<5).map { try! incoming("b\($0)") }, receivedAt: 1)
        // One byte over the limit frees the whole oldest chunk, never part of one.
        try journal.enforceRetention(now: Date(timeIntervalSince1970: 0), maxAge: .infinity, maxBytes: Int(journal.eventBytes - 1))
        #expect(journal.tail == 6 && journal.eventCount == 5)
        #expect(journal.append([try incoming("a0"), try incoming("b0")], receivedAt: 2).outcomes == [.appended(11), .duplicate(6)])
    }

    @Test func aCorruptChunkIsAnErrorThatSaysWhere() throws {
        do {
            let journal = try SQLiteJournal(path: path, durability: .normal)
            _ = journal.append([try incoming("a")], receivedAt: 1)
        }
        let tamper = try SQLiteConnection(path: path)
        try tamper.execute("UPDATE event_chunks SET records = substr(records, 1, 20)")
        #expect {
            _ = try SQLiteJournal(path: path, durability: .normal)
        } throws: { error in
            "\(error)" == "journal chunk starting at sequence 1 is corrupt at byte 0: the record's lengths run past the chunk's 20 bytes"
        }
    }

    @Test func aJournalOfOneRowPerEventMovesIntoChunksAndKeepsEverything() throws {
        // The form before chunks, as an older gridbusd wrote it: sequences, bytes, received times.
        let count = JournalMigration.rowsPerStep + 5
        do {
            let old = try SQLiteConnection(path: path)
            try old.execute(
                """
                CREATE TABLE events (seq INTEGER PRIMARY KEY, source TEXT NOT NULL, id TEXT NOT NULL, topic BLOB NOT NULL,
                                     received_ms INTEGER NOT NULL, event BLOB NOT NULL);
                CREATE TABLE journal_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                """
            )
            let insert = try old.prepare("INSERT INTO events VALUES (?, 'test', ?, ?, ?, ?)")
            try old.transaction {
                for seq in 1...count {
                    insert.bind(seq, at: 1)
                    insert.bind("e\(seq)", at: 2)
                    insert.bind(Array("incident.reported/G-\(seq % 3)".utf8), at: 3)
                    insert.bind(seq < 100 ? 1_000_000 : 2_000_000, at: 4)
                    insert.bind(Array("{\"n\":\(seq)}".utf8), at: 5)
                    try insert.run()
                }
            }
        }
        let journal = try SQLiteJournal(path: path, durability: .normal)
        #expect(journal.head == UInt64(count) && journal.tail == 1 && journal.eventCount == UInt64(count))
        let check = try SQLiteConnection(path: path, readOnly: true)
        #expect(try check.scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'events'") == 0)
        let reader = try SQLiteJournalReader(path: path)
        let g1 = try reader.read(after: 0, prefixes: [Array("incident.reported/G-1".utf8)], limit: 100_000, scanLimit: 100_000).entries
        #expect(g1.map(\.sequence) == Array(stride(from: 1, through: UInt64(count), by: 3)))
        #expect(g1.allSatisfy { String(decoding: $0.event, as: UTF8.self) == "{\"n\":\($0.sequence)}" })
        #expect(journal.append([try incoming("e7"), try incoming("new")], receivedAt: 3).outcomes == [.duplicate(7), .appended(UInt64(count) + 1)])
        // Received times came along: retention by age removes the old prefix only.
        #expect(try journal.enforceRetention(now: Date(timeIntervalSince1970: 1_500), maxAge: 0, maxBytes: .max) == 99)
    }
}
