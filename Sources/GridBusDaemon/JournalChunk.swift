import GridSchema
import GridStore

/// How the journal stores events: many consecutive events per SQLite row (a chunk), not one row each.
///
/// A row per event cost the daemon about 2 µs of CPU per event (SQLite's insert, the WAL frames it
/// writes and the checkpoint's copy of them): the largest single cost on the publish path.
/// A chunk holds the events of one group commit, up to ``JournalChunk/targetBytes``, as records laid
/// end to end; event `i` of a chunk has sequence `first_seq + i`.
///
/// A record, all lengths `UInt32` little-endian:
///
///     eventLength · topicLength · sourceLength · idLength · topic · source · id · event
///
/// `source` and `id` are the UTF-8 bytes the de-duplication compares; `event` is the publisher's
/// bytes with `gridbusseq` spliced in. docs/operations.md ("Reading the journal") describes the
/// format for tools that read the file.
enum JournalChunk {
    /// A chunk is closed once its records reach this size: small enough that a replay from the
    /// middle of one reads little it does not need, large enough that a row costs nothing per event.
    static let targetBytes = 64 * 1024
    static let headerBytes = 16

    /// The statement that stores a chunk; bind its values with ``bindRow(_:firstSequence:lastSequence:receivedAt:eventBytes:records:)``.
    static let insertRowSQL = "INSERT INTO event_chunks (first_seq, last_seq, received_ms, event_bytes, records) VALUES (?, ?, ?, ?, ?)"

    static func bindRow(
        _ statement: SQLiteStatement,
        firstSequence: UInt64,
        lastSequence: UInt64,
        receivedAt: Int64,
        eventBytes: Int64,
        records: [UInt8]
    ) {
        statement.bind(Int64(firstSequence), at: 1)
        statement.bind(Int64(lastSequence), at: 2)
        statement.bind(receivedAt, at: 3)
        statement.bind(eventBytes, at: 4)
        statement.bind(records, at: 5)
    }

    /// Appends one record to `chunk`.
    static func append(topic: [UInt8], source: String, id: String, event: [UInt8], to chunk: inout [UInt8]) {
        appendHeader(eventLength: event.count, topic: topic, source: source, id: id, to: &chunk)
        chunk.append(contentsOf: event)
    }

    /// Appends the record of a publisher's event with `gridbusseq` spliced in (`EnvelopeScanner`),
    /// writing the spliced bytes straight into the chunk.
    /// - Returns: where the stored event lies in `chunk`.
    static func append(
        topic: [UInt8],
        source: String,
        id: String,
        splicing sequence: UInt64,
        into event: [UInt8],
        at bodyStart: Int,
        to chunk: inout [UInt8]
    ) -> Range<Int> {
        let length = EnvelopeScanner.splicedCount(sequence: sequence, into: event.count)
        appendHeader(eventLength: length, topic: topic, source: source, id: id, to: &chunk)
        let start = chunk.count
        EnvelopeScanner.appendSpliced(sequence: sequence, into: event, at: bodyStart, to: &chunk)
        return start..<chunk.count
    }

    private static func appendHeader(eventLength: Int, topic: [UInt8], source: String, id: String, to chunk: inout [UInt8]) {
        var source = source
        var id = id
        source.withUTF8 { source in
            id.withUTF8 { id in
                appendLength(eventLength, to: &chunk)
                appendLength(topic.count, to: &chunk)
                appendLength(source.count, to: &chunk)
                appendLength(id.count, to: &chunk)
                chunk.append(contentsOf: topic)
                chunk.append(contentsOf: source)
                chunk.append(contentsOf: id)
            }
        }
    }

    private static func appendLength(_ length: Int, to chunk: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(length).littleEndian) { chunk.append(contentsOf: $0) }
    }

    /// One record of a chunk, as ranges into the chunk's bytes.
    struct Record {
        let topic: Range<Int>
        let source: Range<Int>
        let id: Range<Int>
        let event: Range<Int>
    }

    /// Walks the records of a chunk in order; `body` returns false to stop early.
    /// - Throws: ``JournalCorruption`` when a length runs past the end of the chunk.
    static func forEachRecord(in chunk: UnsafeRawBufferPointer, firstSequence: UInt64, _ body: (UInt64, Record) throws -> Bool) throws {
        var offset = 0
        var sequence = firstSequence
        while offset < chunk.count {
            guard chunk.count - offset >= headerBytes else {
                throw JournalCorruption(firstSequence: firstSequence, offset: offset, "a record header is cut short")
            }
            func length(_ field: Int) -> Int {
                Int(UInt32(littleEndian: chunk.loadUnaligned(fromByteOffset: offset + 4 * field, as: UInt32.self)))
            }
            let (eventLength, topicLength, sourceLength, idLength) = (length(0), length(1), length(2), length(3))
            let start = offset + headerBytes
            guard eventLength + topicLength + sourceLength + idLength <= chunk.count - start else {
                throw JournalCorruption(
                    firstSequence: firstSequence,
                    offset: offset,
                    "the record's lengths run past the chunk's \(chunk.count) bytes"
                )
            }
            let topic = start..<(start + topicLength)
            let source = topic.upperBound..<(topic.upperBound + sourceLength)
            let id = source.upperBound..<(source.upperBound + idLength)
            let event = id.upperBound..<(id.upperBound + eventLength)
            guard try body(sequence, Record(topic: topic, source: source, id: id, event: event)) else { return }
            offset = event.upperBound
            sequence += 1
        }
    }

    /// The record of `sequence`, or nil if the chunk does not hold it.
    static func record(at sequence: UInt64, in chunk: UnsafeRawBufferPointer, firstSequence: UInt64) throws -> Record? {
        guard sequence >= firstSequence else { return nil }
        var found: Record?
        try forEachRecord(in: chunk, firstSequence: firstSequence) { current, record in
            if current == sequence { found = record }
            return current < sequence
        }
        return found
    }
}

/// A chunk of the journal that cannot be read: the file was changed by something other than gridbusd.
struct JournalCorruption: Error, CustomStringConvertible {
    let firstSequence: UInt64
    let offset: Int
    let reason: String

    init(firstSequence: UInt64, offset: Int, _ reason: String) {
        self.firstSequence = firstSequence
        self.offset = offset
        self.reason = reason
    }

    var description: String { "journal chunk starting at sequence \(firstSequence) is corrupt at byte \(offset): \(reason)" }
}
