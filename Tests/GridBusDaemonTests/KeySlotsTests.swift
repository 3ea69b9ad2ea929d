import GridDistrict
import Testing

@testable import GridBusDaemon

/// The de-duplication table: every entry put in is found under its own hash until it is removed,
/// through doubling, Robin Hood moves, backward shifts, sequences past 2^40 and the overflow.
@Suite struct KeySlotsTests {
    /// Reproducible hashes that spread over all 64 bits, as the seeded hash does.
    typealias Hashes = SeededRandom

    /// The journal's question: is there a sequence under this hash whose stored key is this one?
    /// `hashOf[sequence]` plays the stored record.
    static func lookup(_ slots: KeySlots, _ hash: UInt64, in hashOf: [UInt64]) -> UInt64? {
        slots.firstMatch(hash, where: { hashOf[Int($0)] == hash })
    }

    @Test func entriesAreFoundUntilRemovedThroughDoublingAndRefilling() {
        var random = Hashes(state: 7)
        var slots = KeySlots()
        #expect(slots.capacity == 1 << 20)
        let firstRound = 1_000_000  // past 7/8 of 2^20: the table doubles once
        var hashOf: [UInt64] = [0]
        for sequence in 1...firstRound {
            hashOf.append(random.next())
            slots.insert(hashOf[sequence], sequence: UInt64(sequence))
        }
        #expect(slots.capacity == 1 << 21)
        #expect(slots.count == firstRound)
        // Remove every third entry (backward shifts all over the table), then insert as many again.
        var removed = Set<Int>()
        for sequence in stride(from: 3, through: firstRound, by: 3) {
            slots.remove(hashOf[sequence], sequence: UInt64(sequence))
            removed.insert(sequence)
        }
        for sequence in (firstRound + 1)...(firstRound + removed.count) {
            hashOf.append(random.next())
            slots.insert(hashOf[sequence], sequence: UInt64(sequence))
        }
        #expect(slots.count == firstRound)
        var misplaced = 0
        for sequence in 1..<hashOf.count {
            let found = Self.lookup(slots, hashOf[sequence], in: hashOf)
            if found != (removed.contains(sequence) ? nil : UInt64(sequence)) { misplaced += 1 }
        }
        #expect(misplaced == 0)
        // Hashes never inserted are not found (their fingerprints may match; the records do not).
        var absent = Hashes(state: 99)
        #expect((0..<10_000).allSatisfy { _ in Self.lookup(slots, absent.next(), in: hashOf) == nil })
    }

    @Test func removingWhatIsNotThereChangesNothing() {
        var slots = KeySlots()
        slots.insert(5, sequence: 1)
        slots.remove(5, sequence: 2)
        slots.remove(6, sequence: 1)
        #expect(slots.count == 1 && slots.firstMatch(5, where: { _ in true }) == 1)
    }

    /// A slot keeps 40 bits of the sequence; the rest is read against the newest sequence inserted.
    @Test func sequencesAcrossTwoToTheFortyComeBackWhole() {
        var slots = KeySlots()
        let around = ((1 << 40) - 3)...((1 << 40) + 3) as ClosedRange<UInt64>
        for sequence in around { slots.insert(sequence &* 0x9E37_79B9_7F4A_7C15, sequence: sequence) }
        for sequence in around {
            #expect(slots.firstMatch(sequence &* 0x9E37_79B9_7F4A_7C15, where: { $0 == sequence }) == sequence)
        }
    }

    /// Hundreds of equal fingerprints cannot all sit within 254 slots of home: the rest overflow,
    /// and are still found and removed.
    @Test func equalFingerprintsBeyondTheDisplacementLimitOverflow() {
        var slots = KeySlots()
        let entries = 1...400 as ClosedRange<UInt64>
        for sequence in entries { slots.insert(42, sequence: sequence) }
        #expect(slots.count == 400)
        #expect(entries.allSatisfy { sequence in slots.firstMatch(42, where: { $0 == sequence }) == sequence })
        for sequence in stride(from: 1, through: 400, by: 2) as StrideThrough<UInt64> { slots.remove(42, sequence: sequence) }
        #expect(slots.count == 200)
        #expect(entries.allSatisfy { sequence in (slots.firstMatch(42, where: { $0 == sequence }) == nil) == (sequence % 2 == 1) })
        // A neighbour's entry still sits where probing finds it.
        slots.insert(43, sequence: 401)
        #expect(slots.firstMatch(43, where: { _ in true }) == 401)
    }

    @Test func aTableSizedForAJournalDoesNotDoubleWhileItIsRebuilt() {
        var slots = KeySlots(minimumCount: 2_000_000)
        #expect(slots.capacity == 1 << 22)
        var random = Hashes(state: 1)
        for sequence in 1...2_000_000 as ClosedRange<UInt64> { slots.insert(random.next(), sequence: sequence) }
        #expect(slots.capacity == 1 << 22)
    }
}
