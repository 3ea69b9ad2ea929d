import Foundation
import GridJSON

/// Incident ids: `inc-` and 12 characters of Crockford base32, short enough to read out on the
/// phone. The 60 bits they carry are the time of filing in milliseconds (the upper 42 bits, good
/// until 2109) and a count within it (the lower 18), most significant first: ids sort in the order
/// they were issued.
///
/// Why ordered: every worker keys its rows by incident id (the intake's incidents and tokens, the
/// dispatcher's cases, assignments and request keys, the notifier's incidents and reminders). With
/// random ids each new incident went into a random leaf of each of those indexes: as the stores
/// grew, a commit wrote a page per index per incident, and every leaf was wanted in SQLite's page
/// cache (what did not fit was read back from the OS; ids in order cut those reads by a third,
/// run AS in docs/benchmarks.md). In order, the new keys of a batch share the last leaf.
enum IncidentID {
    static let prefix = "inc-"
    static let characters = 12
    static let countBits = 18
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    private static let values: [UInt8: UInt64] = Dictionary(uniqueKeysWithValues: alphabet.enumerated().map { ($1, UInt64($0)) })

    /// The id to issue at `time`, given the largest id issued before (nil when none): the first of
    /// `time`'s millisecond, or one more than `largest` if that is not smaller. So ids stay unique
    /// and increasing when many are filed in one millisecond or the clock goes back, and after an
    /// upgrade from random ids (then they count on from the largest of those).
    static func next(at time: Date, after largest: String?) -> String {
        let milliseconds = UInt64(max(0, time.millisecondsSince1970))
        let first = min(milliseconds, (1 << (60 - countBits)) - 1) << countBits
        guard let largest, let previous = value(of: largest), previous >= first else { return encode(first) }
        // Counting on from the largest of 100,000 random ids leaves about 10^13 before 2^60: it
        // cannot run out (if it did, the id would repeat and the store refuse the report).
        return encode(min(previous + 1, (1 << 60) - 1))
    }

    static func encode(_ value: UInt64) -> String {
        var bytes = Array(prefix.utf8)
        for index in (0..<characters).reversed() { bytes.append(alphabet[Int((value >> (5 * UInt64(index))) & 31)]) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The number an id carries (read most significant first, also for the random ids issued
    /// before), or nil for a text of another shape.
    static func value(of id: String) -> UInt64? {
        let utf8 = Array(id.utf8)
        guard utf8.count == prefix.utf8.count + characters, utf8.starts(with: prefix.utf8) else { return nil }
        var value: UInt64 = 0
        for byte in utf8.dropFirst(prefix.utf8.count) {
            guard let digit = values[byte] else { return nil }
            value = value << 5 | digit
        }
        return value
    }
}
