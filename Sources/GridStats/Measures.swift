/// What the statistics count for each case (docs/stats.md#indicators): one number per measure,
/// summed over cases into the roll-ups, from which every rate is a quotient.
enum Measure: Int, CaseIterable, Sendable {
    case reports, registered, rejected, merged, dispatched, timelyDispatched, returned, acknowledged, acknowledgeSeconds
    case handled, handleSeconds, handledOnTime, closed, closedOnTime, reworked, escalations, overdue, reopened

    /// The roll-up tables' column.
    var column: String {
        switch self {
        case .timelyDispatched: "timely_dispatched"
        case .acknowledgeSeconds: "acknowledge_seconds"
        case .handleSeconds: "handle_seconds"
        case .handledOnTime: "handled_on_time"
        case .closedOnTime: "closed_on_time"
        default: "\(self)"
        }
    }
}

/// A case's contribution to the roll-ups: a count per measure, and the histogram buckets of its
/// acknowledgement and handling times.
struct Contribution: Equatable, Sendable {
    var values = [Int64](repeating: 0, count: Measure.allCases.count)
    var acknowledgeBucket: Int?
    var handleBucket: Int?

    subscript(_ measure: Measure) -> Int64 {
        get { values[measure.rawValue] }
        set { values[measure.rawValue] = newValue }
    }

    static let none = Contribution()

    /// `new − old`, measure by measure.
    static func - (new: Contribution, old: Contribution) -> [Int64] { zip(new.values, old.values).map { $0 - $1 } }
}

/// Durations in buckets: one per minute up to 48 hours, one per hour up to 30 days, then one for
/// everything longer. A p90 is reported as the upper edge of its bucket: to the minute for the
/// first two days.
enum DurationBuckets {
    static let minutes = 48 * 60
    static let hours = 30 * 24 - 48

    static func bucket(seconds: Double) -> Int {
        let minute = Int(max(0, seconds) / 60)
        if minute < minutes { return minute }
        let hour = Int(max(0, seconds) / 3600) - 48
        return minutes + min(hour, hours)
    }

    /// The bucket's upper edge, in seconds.
    static func upperEdge(_ bucket: Int) -> Double {
        bucket < minutes ? Double(bucket + 1) * 60 : Double(bucket - minutes + 49) * 3600
    }

    /// Nearest rank: the smallest edge below which at least `fraction` of the counts lie.
    static func quantile(_ fraction: Double, of histogram: [Int: Int64]) -> Double? {
        let total = histogram.values.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = Int64((fraction * Double(total)).rounded(.up))
        var seen: Int64 = 0
        for bucket in histogram.keys.sorted() {
            seen += histogram[bucket]!
            if seen >= rank { return upperEdge(bucket) }
        }
        return nil
    }
}
