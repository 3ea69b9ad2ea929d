#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// GridBus keeps times to the millisecond, rounded to the nearest: as RFC 3339 text shows them
/// (``RFC3339/format(_:)``) and as the stores stamp their rows. One rule, so that a time answered,
/// stored and read back are the same.
extension Date {
    /// Milliseconds since 1970-01-01T00:00:00Z, rounded to the nearest.
    public var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    public init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// This time to the millisecond.
    public var wholeMilliseconds: Date { Date(millisecondsSince1970: millisecondsSince1970) }
}
