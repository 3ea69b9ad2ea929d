/// A multimap from 64-bit hashes to sequences, one `UInt64` per entry: the table behind
/// `JournalKeys`. It keeps 36 bits of each hash (the fingerprint); the caller compares the stored
/// record of every sequence it returns, so fingerprints that collide cost a comparison, never an event.
///
/// Open addressing with Robin Hood probing (an entry never sits further from its home slot than
/// the entries it passed, so a lookup stops at the first entry closer to home than itself, and a
/// removal shifts the cluster back instead of leaving tombstones). A slot packs:
///
///     bits 48–63   the fingerprint's bits above the home index (36 − log2 capacity of them)
///     bits 40–47   displacement from the home slot + 1 (0 marks an empty slot)
///     bits  0–39   the sequence's low 40 bits; the rest comes from the newest sequence inserted
///
/// so the table must hold at least 2^20 slots (the home index carries the 20 fingerprint bits the
/// slot cannot), and a journal may span at most 2^40 sequences (a trillion events). Doubling moves
/// one fingerprint bit from the slot into the home index, so it needs no hashing.
struct KeySlots {
    static let fingerprintBits = 36
    static let remainderBits = 16
    static let minimumCapacityLog2 = fingerprintBits - remainderBits
    /// Entries that would sit further than this from home go to `overflow` (only hundreds of equal
    /// fingerprints do that).
    static let maximumDisplacement = 254

    private static let sequenceMask: UInt64 = (1 << 40) - 1
    private static let displacementUnit: UInt64 = 1 << 40

    private var table: [UInt64]
    private var log2Capacity: Int
    private var mask: Int
    private var occupied = 0
    /// The highest sequence inserted: the base the 40 stored bits of every sequence are read against.
    private var newest: UInt64 = 0
    private var overflow: [UInt64: [UInt64]] = [:]

    /// - Parameter minimumCount: entries the table should hold before it first doubles.
    init(minimumCount: Int = 0) {
        var log2Capacity = Self.minimumCapacityLog2
        while Self.limit(capacity: 1 << log2Capacity) < minimumCount { log2Capacity += 1 }
        self.log2Capacity = log2Capacity
        mask = (1 << log2Capacity) - 1
        table = Array(repeating: 0, count: 1 << log2Capacity)
    }

    private static func fingerprint(_ hash: UInt64) -> UInt64 { hash & ((1 << fingerprintBits) - 1) }

    /// The table doubles when it is 7/8 full: Robin Hood probing keeps lookups short up to there.
    private static func limit(capacity: Int) -> Int { capacity / 8 * 7 }

    var count: Int { occupied + overflow.values.reduce(0) { $0 + $1.count } }
    var capacity: Int { table.count }

    /// The first sequence stored under this hash's fingerprint for which `matches` holds.
    func firstMatch(_ hash: UInt64, where matches: (UInt64) throws -> Bool) rethrows -> UInt64? {
        let fingerprint = Self.fingerprint(hash)
        if let index = try firstIndex(of: fingerprint, where: { try matches(sequence($0)) }) { return sequence(table[index]) }
        guard !overflow.isEmpty else { return nil }
        return try overflow[fingerprint]?.first(where: matches)
    }

    mutating func insert(_ hash: UInt64, sequence: UInt64) {
        if occupied + 1 > Self.limit(capacity: table.count) { double() }
        newest = max(newest, sequence)
        place(Self.fingerprint(hash), sequenceBits: sequence & Self.sequenceMask)
    }

    /// Removes one entry; nothing happens if it is not there.
    mutating func remove(_ hash: UInt64, sequence: UInt64) {
        let fingerprint = Self.fingerprint(hash)
        if let index = firstIndex(of: fingerprint, where: { $0 & Self.sequenceMask == sequence & Self.sequenceMask }) {
            shiftBack(into: index)
            occupied -= 1
            return
        }
        guard var others = overflow[fingerprint], let position = others.firstIndex(of: sequence) else { return }
        others.remove(at: position)
        overflow[fingerprint] = others.isEmpty ? nil : others
    }

    /// The first slot holding this fingerprint for which `body` holds, walking from its home.
    private func firstIndex(of fingerprint: UInt64, where body: (UInt64) throws -> Bool) rethrows -> Int? {
        var index = Int(truncatingIfNeeded: fingerprint) & mask
        let remainder = fingerprint >> log2Capacity
        for displacement in 0...Self.maximumDisplacement {
            let slot = table[index]
            let stored = Self.displacement(slot)
            // Empty (-1), or closer to home than this key would be: the key is not in the table.
            if stored < displacement { return nil }
            if stored == displacement, slot >> 48 == remainder, try body(slot) { return index }
            index = (index + 1) & mask
        }
        return nil
    }

    private static func displacement(_ slot: UInt64) -> Int { Int(truncatingIfNeeded: slot >> 40 & 0xFF) - 1 }

    private func sequence(_ slot: UInt64) -> UInt64 {
        newest - ((newest &- slot) & Self.sequenceMask)
    }

    /// Robin Hood insertion: walking from home, the entry takes the slot of the first entry nearer to
    /// its own home, which moves on in its place.
    private mutating func place(_ fingerprint: UInt64, sequenceBits: UInt64) {
        var index = Int(truncatingIfNeeded: fingerprint) & mask
        var carried = (fingerprint >> log2Capacity) << 48 | Self.displacementUnit | sequenceBits
        while true {
            let slot = table[index]
            if slot == 0 {
                table[index] = carried
                occupied += 1
                return
            }
            if Self.displacement(slot) < Self.displacement(carried) {
                table[index] = carried
                carried = slot
            }
            if Self.displacement(carried) == Self.maximumDisplacement {
                // The carried entry is in no slot now: the table holds as many as before.
                let home = (index - Self.maximumDisplacement) & mask
                overflow[UInt64(home) | (carried >> 48) << log2Capacity, default: []].append(sequence(carried))
                return
            }
            carried += Self.displacementUnit
            index = (index + 1) & mask
        }
    }

    /// Backward-shift deletion: the entries after the hole that are not at home move one slot back.
    private mutating func shiftBack(into hole: Int) {
        var hole = hole
        while true {
            let next = (hole + 1) & mask
            let slot = table[next]
            if Self.displacement(slot) <= 0 {
                table[hole] = 0
                return
            }
            table[hole] = slot - Self.displacementUnit
            hole = next
        }
    }

    private mutating func double() {
        let old = table
        let oldLog2Capacity = log2Capacity
        let oldMask = mask
        log2Capacity += 1
        mask = (1 << log2Capacity) - 1
        table = Array(repeating: 0, count: 1 << log2Capacity)
        occupied = 0
        for index in old.indices where old[index] != 0 {
            let slot = old[index]
            let home = (index - Self.displacement(slot)) & oldMask
            place(UInt64(home) | (slot >> 48) << oldLog2Capacity, sequenceBits: slot & Self.sequenceMask)
        }
    }
}
