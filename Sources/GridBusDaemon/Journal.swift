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
/// One row per event, keyed by its global sequence; `(source, id)` is unique, which makes
/// publishing idempotent. Sequences are contiguous: duplicates and failed batches take none,
/// and retention removes only from the oldest end.
final class Journal {
    private let connection: SQLiteConnection
    private let insert: SQLiteStatement
    private let findExisting: SQLiteStatement
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
        CREATE UNIQUE INDEX IF NOT EXISTS events_source_id ON events(source, id);
        CREATE TABLE IF NOT EXISTS journal_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        """

    /// - Parameter maxFileSize: hard cap in bytes (SQLite's `max_page_count`); 0 for none.
    init(path: String, durability: JournalDurability, maxFileSize: Int = 0) throws {
        connection = try SQLiteConnection(path: path)
        try connection.execute("PRAGMA journal_mode = WAL")
        try connection.execute("PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
        try connection.execute(Self.schema)
        // Checkpoints run on their own thread (`WALCheckpointing`); a group commit checkpoints only
        // as the backstop that bounds the WAL under sustained load, and copies only what that
        // thread has not.
        try connection.execute("PRAGMA wal_autocheckpoint = \(WALCheckpointing.backstopPages)")
        if maxFileSize > 0 {
            let pageSize = try connection.scalar("PRAGMA page_size")
            try connection.execute("PRAGMA max_page_count = \(max(Int64(maxFileSize) / pageSize, 16))")
        }
        insert = try connection.prepare(
            "INSERT INTO events (seq, source, id, topic, received_ms, event) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(source, id) DO NOTHING"
        )
        findExisting = try connection.prepare("SELECT seq FROM events WHERE source = ? AND id = ?")
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
        let startBytes = eventBytes
        var outcomes: [AppendOutcome] = []
        var written: [JournalEntry] = []
        outcomes.reserveCapacity(events.count)
        written.reserveCapacity(events.count)
        do {
            try connection.transaction {
                for event in events {
                    let sequence = head + 1
                    let stored = EnvelopeScanner.splice(sequence: sequence, into: event.bytes, at: event.envelope.bodyStart)
                    let topic = event.envelope.topic.bytes
                    insert.bind(Int64(sequence), at: 1)
                    insert.bind(event.envelope.source, at: 2)
                    insert.bind(event.envelope.id, at: 3)
                    insert.bind(topic, at: 4)
                    insert.bind(receivedAt, at: 5)
                    insert.bind(stored, at: 6)
                    try insert.run()
                    if connection.changes == 1 {
                        head = sequence
                        eventBytes += Int64(stored.count)
                        outcomes.append(.appended(sequence))
                        written.append(JournalEntry(sequence: sequence, topic: topic, event: stored))
                    } else {
                        outcomes.append(.duplicate(try existingSequence(source: event.envelope.source, id: event.envelope.id)))
                    }
                }
                if head != startHead { try updateMeta() }
            }
        } catch {
            head = startHead
            eventBytes = startBytes
            return (Array(repeating: .failed("journal write failed: \(error)"), count: events.count), [])
        }
        if tail == 0, let first = written.first { tail = first.sequence }
        return (outcomes, written)
    }

    private func existingSequence(source: String, id: String) throws -> UInt64 {
        defer { findExisting.reset() }
        findExisting.bind(source, at: 1)
        findExisting.bind(id, at: 2)
        guard try findExisting.step() else { throw SQLiteError(code: 0, message: "duplicate vanished", operation: "find existing event") }
        return UInt64(findExisting.int64(0))
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
        try connection.transaction {
            try connection.execute("DELETE FROM events WHERE seq < \(newTail)")
            eventBytes -= removedBytes
            try updateMeta()
        }
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
