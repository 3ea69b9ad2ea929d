import Foundation
import GridSchema
import GridStore

/// The SQLite journal's writing side. Owned by the journal thread.
///
/// Events are stored in chunks (`JournalChunk`): the events of one group commit, up to 64 KiB per
/// row, keyed by the first event's global sequence. `(source, id)` is unique (`JournalKeys`), which
/// makes publishing idempotent. Sequences are contiguous: duplicates and failed batches take none,
/// and retention removes whole chunks, only from the oldest end.
final class SQLiteJournal: JournalStorage {
    private let connection: SQLiteConnection
    private let insertChunk: SQLiteStatement
    private let chunkHolding: SQLiteStatement
    private var keys: JournalKeys
    private(set) var head: UInt64
    private(set) var tail: UInt64
    private(set) var eventBytes: Int64

    /// The journal's schema as its history (``Migrations``): never edit a released migration, add one.
    static let migrations: Migrations = {
        var migrations = Migrations()
        // In steps of its own: a journal written before chunks may have millions of rows to move.
        migrations.register("journal 1 event chunks", ownTransactions: true) { connection in
            // A journal written before `JournalKeys` has a unique index on (source, id): dropping it
            // (the schema's last line) takes a moment, once: 0.3 s for a million events.
            try connection.execute(firstSchema)
            try JournalMigration.moveEventRowsIntoChunks(connection)
        }
        return migrations
    }()

    private static let firstSchema = """
        CREATE TABLE IF NOT EXISTS event_chunks (
            first_seq INTEGER PRIMARY KEY,
            last_seq INTEGER NOT NULL,
            received_ms INTEGER NOT NULL,
            event_bytes INTEGER NOT NULL,
            records BLOB NOT NULL
        );
        CREATE TABLE IF NOT EXISTS journal_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        DROP INDEX IF EXISTS events_source_id;
        """

    /// - Parameter maxFileSize: hard cap in bytes (SQLite's `max_page_count`); 0 for none.
    /// - Parameter keyHash: how `(source, id)` is hashed in memory; tests inject collisions.
    init(
        path: String,
        durability: JournalDurability,
        maxFileSize: Int = 0,
        keyHash: @escaping JournalKeys.Hash = JournalKeys.processSeededHash
    ) throws {
        connection = try SQLiteConnection(path: path)
        try connection.execute("PRAGMA journal_mode = WAL")
        try connection.execute("PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
        // Before the size cap: moving a journal from before chunks needs room for both forms of a
        // slice of it at once.
        try Self.migrations.migrate(connection)
        // Checkpoints run on their own thread (`WALCheckpointing`); a group commit checkpoints only
        // as the backstop that bounds the WAL under sustained load, and copies only what that
        // thread has not.
        try connection.execute("PRAGMA wal_autocheckpoint = \(WALCheckpointing.backstopPages)")
        if maxFileSize > 0 {
            let pageSize = try connection.scalar("PRAGMA page_size")
            try connection.execute("PRAGMA max_page_count = \(max(Int64(maxFileSize) / pageSize, 16))")
        }
        insertChunk = try connection.prepare(JournalChunk.insertRowSQL)
        chunkHolding = try connection.prepare("SELECT first_seq, records FROM event_chunks WHERE first_seq <= ? ORDER BY first_seq DESC LIMIT 1")
        head = UInt64(try connection.scalar("SELECT COALESCE(MAX(last_seq), 0) FROM event_chunks"))
        tail = UInt64(try connection.scalar("SELECT COALESCE(MIN(first_seq), 0) FROM event_chunks"))
        // Sequences are contiguous, so the table can be sized for all of them before they are read.
        var keys = JournalKeys(hash: keyHash, expectedCount: head == 0 ? 0 : Int(head - tail + 1))
        try Self.forEachRecord(connection.prepare("SELECT first_seq, records FROM event_chunks ORDER BY first_seq")) { sequence, chunk, record in
            keys.insert(keys.key(source: chunk[record.source], id: chunk[record.id]), sequence: sequence)
        }
        self.keys = keys
        if let stored = try? connection.scalar("SELECT value FROM journal_meta WHERE key = 'event_bytes'"), head > 0 {
            eventBytes = stored
        } else {
            eventBytes = try connection.scalar("SELECT COALESCE(SUM(event_bytes), 0) FROM event_chunks")
        }
    }

    /// Always: one process owns the file.
    var role: JournalRole { .leader(epoch: 0) }
    var idleWait: Double { 0.2 }
    func maintain() -> [JournalEntry] { [] }

    /// The memory the de-duplication keys take (it grows with the journal; see `JournalKeys`).
    var keysMemoryBytes: Int { keys.memoryBytes }

    func append(_ events: [IncomingEvent], receivedAt: Int64) -> (outcomes: [AppendOutcome], written: [JournalEntry]) {
        let startHead = head
        let startTail = tail
        let startBytes = eventBytes
        var keysAdded: [(key: UInt64, sequence: UInt64)] = []
        var outcomes: [AppendOutcome] = []
        var written: [JournalEntry] = []
        outcomes.reserveCapacity(events.count)
        written.reserveCapacity(events.count)
        var chunk = PendingChunk(firstSequence: head + 1)
        do {
            try connection.transaction {
                for index in events.indices {
                    let envelope = events[index].envelope
                    let source = envelope.source
                    let id = envelope.id
                    let key = keys.key(source: source, id: id)
                    if let existing = try keys.firstMatch(key, where: { try isStored(source: source, id: id, at: $0, pending: chunk) }) {
                        outcomes.append(.duplicate(existing))
                        continue
                    }
                    let sequence = head + 1
                    let topic = envelope.topic.bytes
                    let stored = JournalChunk.append(
                        topic: topic,
                        source: source,
                        id: id,
                        splicing: sequence,
                        into: events[index].bytes,
                        at: envelope.bodyStart,
                        to: &chunk.records
                    )
                    chunk.eventBytes += Int64(stored.count)
                    keys.insert(key, sequence: sequence)
                    keysAdded.append((key, sequence))
                    head = sequence
                    if tail == 0 { tail = sequence }
                    eventBytes += Int64(stored.count)
                    outcomes.append(.appended(sequence))
                    written.append(JournalEntry(sequence: sequence, topic: topic, event: Array(chunk.records[stored])))
                    if chunk.records.count >= JournalChunk.targetBytes { try write(&chunk, receivedAt: receivedAt) }
                }
                try write(&chunk, receivedAt: receivedAt)
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

    /// The records of a group commit not yet handed to SQLite.
    private struct PendingChunk {
        var firstSequence: UInt64
        var records: [UInt8] = []
        var eventBytes: Int64 = 0

        init(firstSequence: UInt64) {
            self.firstSequence = firstSequence
            records.reserveCapacity(JournalChunk.targetBytes + 4096)
        }
    }

    /// Inserts the pending chunk's row (if it holds anything) and starts the next chunk after `head`.
    private func write(_ chunk: inout PendingChunk, receivedAt: Int64) throws {
        guard !chunk.records.isEmpty else { return }
        JournalChunk.bindRow(
            insertChunk,
            firstSequence: chunk.firstSequence,
            lastSequence: head,
            receivedAt: receivedAt,
            eventBytes: chunk.eventBytes,
            records: chunk.records
        )
        try insertChunk.run()
        chunk.firstSequence = head + 1
        chunk.records.removeAll(keepingCapacity: true)
        chunk.eventBytes = 0
    }

    /// Whether the event at `sequence` has this `(source, id)`, byte for byte.
    private func isStored(source: String, id: String, at sequence: UInt64, pending: PendingChunk) throws -> Bool {
        func matches(_ chunk: UnsafeRawBufferPointer, firstSequence: UInt64) throws -> Bool {
            guard let record = try JournalChunk.record(at: sequence, in: chunk, firstSequence: firstSequence) else { return false }
            return chunk[record.source].elementsEqual(source.utf8) && chunk[record.id].elementsEqual(id.utf8)
        }
        if sequence >= pending.firstSequence {
            return try pending.records.withUnsafeBytes { try matches($0, firstSequence: pending.firstSequence) }
        }
        defer { chunkHolding.reset() }
        chunkHolding.bind(Int64(sequence), at: 1)
        guard try chunkHolding.step() else { return false }
        let first = UInt64(chunkHolding.int64(0))
        return try chunkHolding.withBlob(1) { try matches($0, firstSequence: first) }
    }

    private func updateMeta() throws {
        try connection.execute(
            "INSERT INTO journal_meta (key, value) VALUES ('event_bytes', \(eventBytes)) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        )
    }

    /// Removes whole chunks, the oldest first.
    @discardableResult
    func enforceRetention(now: Date, maxAge: Double, maxBytes: Int) throws -> Int {
        guard eventCount > 0 else { return 0 }
        // An unbounded (or absurd) age keeps everything; converting it would trap.
        let cutoffSeconds = now.timeIntervalSince1970 - maxAge
        let cutoff = cutoffSeconds.isFinite && cutoffSeconds > 0 ? Int64(cutoffSeconds * 1000) : Int64.min
        // Received times grow with the sequence (one writer), so the old chunks are a prefix.
        var newTail = UInt64(try connection.scalar("SELECT COALESCE(MIN(first_seq), 0) FROM event_chunks WHERE received_ms >= \(cutoff)"))
        if newTail == 0 { newTail = head + 1 }
        var removedBytes = try connection.scalar("SELECT COALESCE(SUM(event_bytes), 0) FROM event_chunks WHERE first_seq < \(newTail)")
        if eventBytes - removedBytes > maxBytes {
            // Walk forward from the new tail until enough bytes are freed.
            let chunks = try connection.prepare("SELECT last_seq, event_bytes FROM event_chunks WHERE first_seq >= ? ORDER BY first_seq")
            chunks.bind(Int64(newTail), at: 1)
            while eventBytes - removedBytes > maxBytes, try chunks.step() {
                removedBytes += chunks.int64(1)
                newTail = UInt64(chunks.int64(0)) + 1
            }
        }
        guard newTail > tail else { return 0 }
        let removed = Int(min(newTail, head + 1) - tail)
        var removedKeys: [(key: UInt64, sequence: UInt64)] = []
        removedKeys.reserveCapacity(removed)
        let chunks = try connection.prepare("SELECT first_seq, records FROM event_chunks WHERE first_seq < ? ORDER BY first_seq")
        chunks.bind(Int64(newTail), at: 1)
        try Self.forEachRecord(chunks) { sequence, chunk, record in
            removedKeys.append((keys.key(source: chunk[record.source], id: chunk[record.id]), sequence))
        }
        try connection.transaction {
            try connection.execute("DELETE FROM event_chunks WHERE first_seq < \(newTail)")
            eventBytes -= removedBytes
            try updateMeta()
        }
        for removedKey in removedKeys { keys.remove(removedKey.key, sequence: removedKey.sequence) }
        tail = newTail > head ? 0 : newTail
        return removed
    }

    /// Every record of the chunks a `SELECT first_seq, records …` statement yields, in order.
    private static func forEachRecord(
        _ chunks: SQLiteStatement,
        _ body: (UInt64, UnsafeRawBufferPointer, JournalChunk.Record) throws -> Void
    ) throws {
        defer { chunks.reset() }
        while try chunks.step() {
            let first = UInt64(chunks.int64(0))
            try chunks.withBlob(1) { chunk in
                try JournalChunk.forEachRecord(in: chunk, firstSequence: first) { sequence, record in
                    try body(sequence, chunk, record)
                    return true
                }
            }
        }
    }
}

/// The SQLite journal's reading side, for replay. Owned by the replay thread; WAL lets it read while the writer writes.
final class SQLiteJournalReader: JournalReading {
    private let connection: SQLiteConnection
    private let select: SQLiteStatement

    init(path: String) throws {
        connection = try SQLiteConnection(path: path, readOnly: true)
        // From the chunk holding the first wanted event (or the oldest chunk) on.
        select = try connection.prepare(
            """
            SELECT first_seq, records FROM event_chunks
            WHERE first_seq >= COALESCE((SELECT MAX(first_seq) FROM event_chunks WHERE first_seq <= ?), 0)
            ORDER BY first_seq
            """
        )
    }

    func read(after sequence: UInt64, prefixes: [[UInt8]], limit: Int, scanLimit: Int) throws -> (entries: [JournalEntry], lastExamined: UInt64) {
        defer { select.reset() }
        select.bind(Int64(clamping: sequence &+ 1), at: 1)
        var entries: [JournalEntry] = []
        var lastExamined = sequence
        var examined = 0
        while entries.count < limit, examined < scanLimit, try select.step() {
            let first = UInt64(select.int64(0))
            try select.withBlob(1) { chunk in
                try JournalChunk.forEachRecord(in: chunk, firstSequence: first) { seq, record in
                    guard seq > sequence else { return true }
                    guard entries.count < limit, examined < scanLimit else { return false }
                    examined += 1
                    lastExamined = seq
                    let topic = chunk[record.topic]
                    if Topic.matches(topic, anyOf: prefixes) {
                        entries.append(JournalEntry(sequence: seq, topic: Array(topic), event: Array(chunk[record.event])))
                    }
                    return true
                }
            }
        }
        return (entries, lastExamined)
    }
}
