/// A hash of the `(source, id)` of every event in the journal, kept in memory: how the journal makes
/// publishing idempotent.
///
/// A unique SQLite index on `(source, id)` did this before. Publishers' ids are random (UUIDs), so
/// every insert landed on a random page of that index, and each group commit wrote about one 4 KiB
/// index page per event to the WAL (and the checkpoint copied it again): acknowledged publishes with
/// UUID ids ran at a quarter of the rate with sequential ids. A hash only says where to look; the
/// journal compares the stored record before it calls an event a duplicate, so two keys with the same
/// hash are both kept. Rebuilt from the journal at start.
///
/// Memory is the point of the layout: one `UInt64` slot per event in an open-addressing table
/// (`KeySlots`), 9–18 bytes per event with the table's slack, where a `[UInt64: UInt64]` took about
/// 36. The table starts with room for 917,504 events (8 MiB) and doubles beyond that.
struct JournalKeys {
    /// Hashes the UTF-8 bytes of source and id (SQLite compares `TEXT` byte for byte; Swift compares
    /// `String`s by canonical equivalence).
    typealias Hash = @Sendable (_ source: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer) -> UInt64

    private let hash: Hash
    private var slots: KeySlots

    /// - Parameter hash: the default is seeded per process (Swift's `Hasher`), so that nobody outside
    ///   can choose ids that collide; tests inject a weak one to exercise collisions.
    /// - Parameter expectedCount: events about to be inserted (a journal being reopened), so that the
    ///   table is sized once instead of doubling on the way.
    init(hash: @escaping Hash = JournalKeys.processSeededHash, expectedCount: Int = 0) {
        self.hash = hash
        slots = KeySlots(minimumCount: expectedCount)
    }

    var count: Int { slots.count }

    /// The bytes the keys take in memory.
    var memoryBytes: Int { slots.capacity * MemoryLayout<UInt64>.stride }

    /// The first sequence with this hash for which `matches` holds (the caller compares the stored key).
    func firstMatch(_ key: UInt64, where matches: (UInt64) throws -> Bool) rethrows -> UInt64? {
        try slots.firstMatch(key, where: matches)
    }

    mutating func insert(_ key: UInt64, sequence: UInt64) {
        slots.insert(key, sequence: sequence)
    }

    mutating func remove(_ key: UInt64, sequence: UInt64) {
        slots.remove(key, sequence: sequence)
    }

    func key(source: String, id: String) -> UInt64 {
        var source = source
        var id = id
        return source.withUTF8 { source in id.withUTF8 { id in hash(UnsafeRawBufferPointer(source), UnsafeRawBufferPointer(id)) } }
    }

    /// The key of a stored event, from the bytes of its journal record.
    func key(source: Slice<UnsafeRawBufferPointer>, id: Slice<UnsafeRawBufferPointer>) -> UInt64 {
        hash(UnsafeRawBufferPointer(rebasing: source), UnsafeRawBufferPointer(rebasing: id))
    }

    @Sendable static func processSeededHash(source: UnsafeRawBufferPointer, id: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(source.count)
        hasher.combine(bytes: source)
        hasher.combine(bytes: id)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }
}
