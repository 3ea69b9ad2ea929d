/// A hash of the `(source, id)` of every event in the journal, kept in memory: how the journal makes
/// publishing idempotent.
///
/// A unique SQLite index on `(source, id)` did this before. Publishers' ids are random (UUIDs), so
/// every insert landed on a random page of that index, and each group commit wrote about one 4 KiB
/// index page per event to the WAL (and the checkpoint copied it again): acknowledged publishes with
/// UUID ids ran at a quarter of the rate with sequential ids. A hash only says where to look; the
/// journal compares the stored record before it calls an event a duplicate, so two keys with the same
/// hash are both kept (the second in `more`). Rebuilt from the journal at start.
struct JournalKeys {
    /// Hashes the UTF-8 bytes of source and id (SQLite compares `TEXT` byte for byte; Swift compares
    /// `String`s by canonical equivalence).
    typealias Hash = @Sendable (_ source: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer) -> UInt64

    private let hash: Hash
    /// Hash → sequence of the first event with that hash.
    private var first: [UInt64: UInt64] = [:]
    /// Further events with a hash already in `first` (distinct keys that collide: practically never).
    private var more: [UInt64: [UInt64]] = [:]

    /// - Parameter hash: the default is seeded per process (Swift's `Hasher`), so that nobody outside
    ///   can choose ids that collide; tests inject a weak one to exercise collisions.
    init(hash: @escaping Hash = JournalKeys.processSeededHash) {
        self.hash = hash
    }

    var count: Int { first.count + more.values.reduce(0) { $0 + $1.count } }

    /// The first sequence with this hash for which `matches` holds (the caller compares the stored key).
    func firstMatch(_ key: UInt64, where matches: (UInt64) throws -> Bool) rethrows -> UInt64? {
        guard let sequence = first[key] else { return nil }
        if try matches(sequence) { return sequence }
        return try more[key]?.first(where: matches)
    }

    mutating func insert(_ key: UInt64, sequence: UInt64) {
        if first[key] == nil {
            first[key] = sequence
        } else {
            more[key, default: []].append(sequence)
        }
    }

    mutating func remove(_ key: UInt64, sequence: UInt64) {
        if first[key] == sequence {
            if var others = more[key], !others.isEmpty {
                first[key] = others.removeFirst()
                more[key] = others.isEmpty ? nil : others
            } else {
                first[key] = nil
            }
        } else if var others = more[key], let index = others.firstIndex(of: sequence) {
            others.remove(at: index)
            more[key] = others.isEmpty ? nil : others
        }
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
