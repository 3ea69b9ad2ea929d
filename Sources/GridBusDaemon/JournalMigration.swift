import GridStore

/// The part of the journal's first migration that brings a journal written by a gridbusd from
/// before chunks to the chunked form (``Journal/migrations``).
enum JournalMigration {
    /// Rows moved per transaction: each step is atomic, so a crash in the middle leaves a journal
    /// that the next start goes on moving, and the WAL of one step stays small.
    static let rowsPerStep = 20_000

    /// Journals before chunks kept one row per event in `events`. Moves those rows, oldest first,
    /// into chunks of consecutive events received in the same group commit (the same received
    /// time, so retention by age removes what it did before), then drops the table.
    /// - Returns: the number of events moved (0 for a journal already in chunks).
    @discardableResult
    static func moveEventRowsIntoChunks(_ connection: SQLiteConnection) throws -> Int {
        guard try connection.scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'") > 0 else { return 0 }
        let rows = try connection.prepare("SELECT seq, source, id, topic, received_ms, event FROM events ORDER BY seq LIMIT \(rowsPerStep)")
        let insert = try connection.prepare(JournalChunk.insertRowSQL)
        var moved = 0
        while true {
            let step = try connection.transaction { () throws -> Int in
                defer { rows.reset() }
                var chunk = ChunkOfRows()
                var count = 0
                while try rows.step() {
                    let sequence = UInt64(rows.int64(0))
                    let receivedAt = rows.int64(4)
                    if let previous = chunk.lastSequence,
                        sequence != previous + 1 || receivedAt != chunk.receivedAt || chunk.records.count >= JournalChunk.targetBytes
                    {
                        try chunk.insert(with: insert)
                    }
                    let event = rows.blob(5)
                    JournalChunk.append(topic: rows.blob(3), source: rows.text(1) ?? "", id: rows.text(2) ?? "", event: event, to: &chunk.records)
                    chunk.add(sequence: sequence, receivedAt: receivedAt, eventBytes: event.count)
                    count += 1
                }
                try chunk.insert(with: insert)
                if let last = chunk.lastMoved { try connection.execute("DELETE FROM events WHERE seq <= \(last)") }
                return count
            }
            moved += step
            if step < rowsPerStep { break }
        }
        try connection.execute("DROP TABLE events")
        return moved
    }

    /// Consecutive rows gathered into one chunk.
    private struct ChunkOfRows {
        var records: [UInt8] = []
        var firstSequence: UInt64?
        var lastSequence: UInt64?
        var receivedAt: Int64 = 0
        var eventBytes: Int64 = 0
        /// The newest sequence written by any chunk so far.
        var lastMoved: UInt64?

        mutating func add(sequence: UInt64, receivedAt: Int64, eventBytes: Int) {
            if firstSequence == nil { firstSequence = sequence }
            lastSequence = sequence
            self.receivedAt = receivedAt
            self.eventBytes += Int64(eventBytes)
        }

        mutating func insert(with statement: SQLiteStatement) throws {
            guard let first = firstSequence, let last = lastSequence else { return }
            JournalChunk.bindRow(
                statement,
                firstSequence: first,
                lastSequence: last,
                receivedAt: receivedAt,
                eventBytes: eventBytes,
                records: records
            )
            try statement.run()
            lastMoved = last
            records.removeAll(keepingCapacity: true)
            firstSequence = nil
            lastSequence = nil
            receivedAt = 0
            eventBytes = 0
        }
    }
}
