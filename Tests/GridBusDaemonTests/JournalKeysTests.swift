import Foundation
import GridBusTestSupport
import GridSchema
import GridStore
import Testing

@testable import GridBusDaemon

/// Idempotent publishing without an index on disk: `JournalKeys` only says where to look, the journal
/// decides by the stored row.
@Suite struct JournalKeysTests {
    let path = TemporaryFiles.store("journal-keys")

    /// Every key hashes alike: each lookup must tell keys apart by the stored row.
    static let everythingCollides: JournalKeys.Hash = { _, _ in 42 }

    func incoming(_ id: String, source: String = "test") throws -> IncomingEvent {
        let bytes = Array(#"{"specversion":"1.0","id":"\#(id)","source":"\#(source)","type":"incident.reported","grid":"G-1","data":{}}"#.utf8)
        return IncomingEvent(
            envelope: try EnvelopeScanner.scan(bytes),
            bytes: bytes,
            reply: ReplyAddress(routingID: [1], delimited: false),
            token: []
        )
    }

    @Test func collidingSequencesAreKeptAndRemovedOneByOne() {
        var keys = JournalKeys(hash: Self.everythingCollides)
        for sequence in 1...3 as ClosedRange<UInt64> { keys.insert(7, sequence: sequence) }
        #expect(keys.count == 3)
        #expect(keys.firstMatch(7, where: { $0 == 3 }) == 3)
        #expect(keys.firstMatch(7, where: { _ in false }) == nil)
        #expect(keys.firstMatch(8, where: { _ in true }) == nil)
        keys.remove(7, sequence: 1)  // the first: a later one takes its place
        #expect(keys.firstMatch(7, where: { $0 == 2 }) == 2 && keys.firstMatch(7, where: { $0 == 1 }) == nil)
        keys.remove(7, sequence: 3)
        keys.remove(7, sequence: 9)  // not there: nothing changes
        #expect(keys.count == 1)
        keys.remove(7, sequence: 2)
        #expect(keys.count == 0 && keys.firstMatch(7, where: { _ in true }) == nil)
    }

    @Test func theDefaultHashTellsSourceFromId() {
        let keys = JournalKeys()
        #expect(keys.key(source: "ab", id: "c") != keys.key(source: "a", id: "bc"))
        let (source, id) = (Array("a".utf8), Array("b".utf8))
        let fromRecord = source.withUnsafeBytes { source in id.withUnsafeBytes { id in keys.key(source: source[...], id: id[...]) } }
        #expect(keys.key(source: "a", id: "b") == fromRecord)
    }

    @Test func collidingKeysAreTwoEventsAndDuplicatesAreStillFound() throws {
        let journal = try SQLiteJournal(path: path, durability: .normal, keyHash: Self.everythingCollides)
        let first = journal.append([try incoming("a"), try incoming("b"), try incoming("a", source: "other"), try incoming("b")], receivedAt: 1)
        #expect(first.outcomes == [.appended(1), .appended(2), .appended(3), .duplicate(2)])
        let second = journal.append([try incoming("a", source: "other"), try incoming("c")], receivedAt: 2)
        #expect(second.outcomes == [.duplicate(3), .appended(4)])
    }

    @Test func keysAreRebuiltFromTheJournalWhenItOpens() throws {
        do {
            let journal = try SQLiteJournal(path: path, durability: .normal, keyHash: Self.everythingCollides)
            _ = journal.append((0..<50).map { try! incoming("e\($0)") }, receivedAt: 1)
        }
        let reopened = try SQLiteJournal(path: path, durability: .normal)
        #expect(
            reopened.append([try incoming("e49"), try incoming("e0"), try incoming("e50")], receivedAt: 2).outcomes == [
                .duplicate(50), .duplicate(1), .appended(51),
            ]
        )
    }

    @Test func anEventRemovedByRetentionCanBePublishedAgain() throws {
        let journal = try SQLiteJournal(path: path, durability: .normal, keyHash: Self.everythingCollides)
        _ = journal.append([try incoming("old"), try incoming("kept")], receivedAt: 1_000)
        _ = journal.append([try incoming("new")], receivedAt: 2_000_000)
        try journal.enforceRetention(now: Date(timeIntervalSince1970: 2_000), maxAge: 10, maxBytes: .max)
        #expect(journal.tail == 3)
        #expect(journal.append([try incoming("new"), try incoming("old")], receivedAt: 2_000_001).outcomes == [.duplicate(3), .appended(4)])
    }

    /// SQLite compares TEXT byte for byte, and a C string would end at the NUL: both are kept whole.
    @Test func idsThatDifferAfterANulOrOnlyInNormalisationAreDifferentEvents() throws {
        do {
            let journal = try SQLiteJournal(path: path, durability: .normal)
            let outcomes = journal.append(
                [try incoming(#"a\u0000x"#), try incoming(#"a\u0000y"#), try incoming("caf\u{E9}"), try incoming("cafe\u{301}")],
                receivedAt: 1
            ).outcomes
            #expect(outcomes == [.appended(1), .appended(2), .appended(3), .appended(4)])
        }
        let reopened = try SQLiteJournal(path: path, durability: .normal)
        #expect(
            reopened.append([try incoming(#"a\u0000y"#), try incoming("cafe\u{301}")], receivedAt: 2).outcomes == [.duplicate(2), .duplicate(4)]
        )
    }

    @Test func aJournalWithTheOldUniqueIndexLosesItAndKeepsItsEvents() throws {
        do {
            let old = try SQLiteConnection(path: path)
            try old.execute(
                """
                CREATE TABLE events (seq INTEGER PRIMARY KEY, source TEXT NOT NULL, id TEXT NOT NULL, topic BLOB NOT NULL,
                                     received_ms INTEGER NOT NULL, event BLOB NOT NULL);
                CREATE UNIQUE INDEX events_source_id ON events(source, id);
                INSERT INTO events VALUES (1, 'test', 'a', x'00', 1, x'7b7d');
                """
            )
        }
        let journal = try SQLiteJournal(path: path, durability: .normal)
        #expect(journal.append([try incoming("a"), try incoming("b")], receivedAt: 2).outcomes == [.duplicate(1), .appended(2)])
        let check = try SQLiteConnection(path: path, readOnly: true)
        #expect(try check.scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'events_source_id'") == 0)
    }
}
