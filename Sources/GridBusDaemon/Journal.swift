import Foundation
import GridSchema
import GridStore

/// An event the journal has stored: what egress fans out and replay serves.
public struct JournalEntry: Sendable, Hashable {
    public let sequence: UInt64
    public let topic: [UInt8]
    /// The publisher's bytes with `gridbusseq` spliced in.
    public let event: [UInt8]
}

/// The outcome of appending one event.
enum AppendOutcome: Sendable, Hashable {
    case appended(UInt64)
    /// The same `(source, id)` was journaled before under this sequence; nothing was written.
    case duplicate(UInt64)
    case failed(String)
}

/// The SQLite journal's writing side. Owned by the journal thread.
///
/// One row per event, keyed by its global sequence; `(source, id)` is unique (`JournalKeys`), which
/// makes publishing idempotent. Sequences are contiguous: duplicates and failed batches take none,
/// and retention removes only from the oldest end.
final class Journal {
    private let connection: SQLiteConnection
    private let insert: SQLiteStatement
    private let storedKey: SQLiteStatement
    private var keys: JournalKeys
    private(set) var head: UInt64
    private(set) var tail: UInt64
    private(set) var eventBytes: Int64

    static let schema = """
        CREATE TABLE IF NOT EXISTS events (
            seq INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            id TEXT NOT NULL,
            topic BLOB NOT NULL,
            received_ms INTEGER NOT NULL,
            event BLOB NOT NULL
        );
        CREATE TABLE IF NOT EXISTS journal_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        DROP INDEX IF EXISTS events_source_id;
        """

    /// - Parameter maxFileSize: hard cap in bytes (SQLite's `max_page_count`); 0 for none.
    /// - Parameter keyHash: how `(source, id)` is hashed in memory; tests inject collisions.
    init(path: String, durability: JournalDurability, maxFileSize: Int = 0, keyHash: @escaping JournalKeys.Hash = JournalKeys.processSeededHash) throws {
        connection = try SQLiteConnection(path: path)
        try connection.execute("PRAGMA journal_mode = WAL")
        try connection.execute("PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
        // A journal written before `JournalKeys` has a unique index on (source, id): dropping it
        // (the schema's last line) takes a moment, once: 0.3 s for a million events.
        try connection.execute(Self.schema)
        // Checkpoints run on their own thread (`WALCheckpointing`); a group commit checkpoints only
        // as the backstop that bounds the WAL under sustained load, and copies only what that
        // thread has not.
        try connection.execute("PRAGMA wal_autocheckpoint = \(WALCheckpointing.backstopPages)")
        if maxFileSize > 0 {
            let pageSize = try connection.scalar("PRAGMA page_size")
            try connection.execute("PRAGMA max_page_count = \(max(Int64(maxFileSize) / pageSize, 16))")
        }
        insert = try connection.prepare("INSERT INTO events (seq, source, id, topic, received_ms, event) VALUES (?, ?, ?, ?, ?, ?)")
        storedKey = try connection.prepare("SELECT source, id FROM events WHERE seq = ?")
        keys = JournalKeys(hash: keyHash)
        let all = try connection.prepare("SELECT seq, source, id FROM events")
        while try all.step() {
            keys.insert(keys.key(source: all.blob(1), id: all.blob(2)), sequence: UInt64(all.int64(0)))
        }
        head = UInt64(try connection.scalar("SELECT COALESCE(MAX(seq), 0) FROM events"))
        tail = UInt64(try connection.scalar("SELECT COALESCE(MIN(seq), 0) FROM events"))
        if let stored = try? connection.scalar("SELECT value FROM journal_meta WHERE key = 'event_bytes'"), head > 0 {
            eventBytes = stored
        } else {
            eventBytes = try connection.scalar("SELECT COALESCE(SUM(length(event)), 0) FROM events")
        }
    }

    var eventCount: UInt64 { head == 0 || tail == 0 ? 0 : head - tail + 1 }

    /// Appends a group of events in one transaction (group commit).
    /// - Returns: one outcome per event, and the entries that were newly written, in sequence order.
    func append(_ events: [IncomingEvent], receivedAt: Int64) -> (outcomes: [AppendOutcome], written: [JournalEntry]) {
        let startHead = head
        let startTail = tail
        let startBytes = eventBytes
        var keysAdded: [(key: UInt64, sequence: UInt64)] = []
        var outcomes: [AppendOutcome] = []
        var written: [JournalEntry] = []
        outcomes.reserveCapacity(events.count)
        written.reserveCapacity(events.count)
        do {
            try connection.transaction {
                for index in events.indices {
                    let envelope = events[index].envelope
                    let source = envelope.source
                    let id = envelope.id
                    let key = keys.key(source: source, id: id)
                    if let existing = try keys.firstMatch(key, where: { try isStored(source: source, id: id, at: $0) }) {
                        outcomes.append(.duplicate(existing))
                        continue
                    }
                    let sequence = head + 1
                    let stored = EnvelopeScanner.splice(sequence: sequence, into: events[index].bytes, at: envelope.bodyStart)
                    let topic = envelope.topic.bytes
                    insert.bind(Int64(sequence), at: 1)
                    insert.bind(source, at: 2)
                    insert.bind(id, at: 3)
                    insert.bind(topic, at: 4)
                    insert.bind(receivedAt, at: 5)
                    insert.bind(stored, at: 6)
                    try insert.run()
                    keys.insert(key, sequence: sequence)
                    keysAdded.append((key, sequence))
                    head = sequence
                    if tail == 0 { tail = sequence }
                    eventBytes += Int64(stored.count)
                    outcomes.append(.appended(sequence))
                    written.append(JournalEntry(sequence: sequence, topic: topic, event: stored))
                }
                if head != startHead { try updateMeta() }
            }
        } catch {
            head = startHead
            tail = startTail
            eventBytes = startBytes
            for added in keysAdded { keys.remove(added.key, sequence: added.sequence) }
            return (Array(repeating: .failed("journal write failed: \(error)"), count: events.count), [])
        }
        return (outcomes, written)
    }

    /// Whether the event at `sequence` has this `(source, id)`, byte for byte.
    private func isStored(source: String, id: String, at sequence: UInt64) throws -> Bool {
        defer { storedKey.reset() }
        storedKey.bind(Int64(sequence), at: 1)
        guard try storedKey.step() else { return false }
        return storedKey.blob(0).elementsEqual(source.utf8) && storedKey.blob(1).elementsEqual(id.utf8)
    }

    private func updateMeta() throws {
        try connection.execute(
            "INSERT INTO journal_meta (key, value) VALUES ('event_bytes', \(eventBytes)) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        )
    }

    /// Removes the oldest events while they are older than `maxAge` seconds or the journal holds more than `maxBytes`.
    /// - Returns: the number of events removed.
    @discardableResult
    func enforceRetention(now: Date, maxAge: Double, maxBytes: Int) throws -> Int {
        guard eventCount > 0 else { return 0 }
        // An unbounded (or absurd) age keeps everything; converting it would trap.
        let cutoffSeconds = now.timeIntervalSince1970 - maxAge
        let cutoff = cutoffSeconds.isFinite && cutoffSeconds > 0 ? Int64(cutoffSeconds * 1000) : Int64.min
        // Received times grow with the sequence (one writer), so the old events are a prefix.
        var newTail = UInt64(try connection.scalar("SELECT COALESCE(MIN(seq), 0) FROM events WHERE received_ms >= \(cutoff)"))
        if newTail == 0 { newTail = head + 1 }
        var removedBytes = try connection.scalar("SELECT COALESCE(SUM(length(event)), 0) FROM events WHERE seq < \(newTail)")
        if eventBytes - removedBytes > maxBytes {
            // Walk forward from the new tail until enough bytes are freed.
            let rows = try connection.prepare("SELECT seq, length(event) FROM events WHERE seq >= ? ORDER BY seq")
            rows.bind(Int64(newTail), at: 1)
            while eventBytes - removedBytes > maxBytes, try rows.step() {
                removedBytes += rows.int64(1)
                newTail = UInt64(rows.int64(0)) + 1
            }
        }
        guard newTail > tail else { return 0 }
        let removed = Int(min(newTail, head + 1) - tail)
        var removedKeys: [(key: UInt64, sequence: UInt64)] = []
        removedKeys.reserveCapacity(removed)
        let rows = try connection.prepare("SELECT seq, source, id FROM events WHERE seq < ?")
        rows.bind(Int64(newTail), at: 1)
        while try rows.step() {
            removedKeys.append((keys.key(source: rows.blob(1), id: rows.blob(2)), UInt64(rows.int64(0))))
        }
        try connection.transaction {
            try connection.execute("DELETE FROM events WHERE seq < \(newTail)")
            eventBytes -= removedBytes
            try updateMeta()
        }
        for removedKey in removedKeys { keys.remove(removedKey.key, sequence: removedKey.sequence) }
        tail = newTail > head ? 0 : newTail
        return removed
    }
}

/// The journal's reading side, for replay. Owned by the replay thread; WAL lets it read while the writer writes.
final class JournalReader {
    private let connection: SQLiteConnection
    private let select: SQLiteStatement

    init(path: String) throws {
        connection = try SQLiteConnection(path: path, readOnly: true)
        select = try connection.prepare("SELECT seq, topic, event FROM events WHERE seq > ? ORDER BY seq LIMIT ?")
    }

    /// Events after `sequence` whose topic starts with one of `prefixes`.
    /// - Returns: up to `limit` matching entries, and the last sequence examined (the next request starts after it),
    ///   examining at most `scanLimit` rows so that a sparse prefix cannot make one answer slow.
    func read(after sequence: UInt64, prefixes: [[UInt8]], limit: Int, scanLimit: Int) throws -> (entries: [JournalEntry], lastExamined: UInt64) {
        defer { select.reset() }
        select.bind(Int64(sequence), at: 1)
        select.bind(scanLimit, at: 2)
        var entries: [JournalEntry] = []
        var lastExamined = sequence
        while entries.count < limit, try select.step() {
            let seq = UInt64(select.int64(0))
            lastExamined = seq
            let topic = select.blob(1)
            guard Topic.matches(topic, anyOf: prefixes) else { continue }
            entries.append(JournalEntry(sequence: seq, topic: topic, event: select.blob(2)))
        }
        return (entries, lastExamined)
    }
}
