import Foundation

/// (p) with `--e2e-notifier-outage AT:SECONDS`: grid-notifier is killed (`kill -9`) AT seconds into
/// the run and started again SECONDS later, while reports keep coming. What this shows is how the
/// notifier catches up: the events it missed, and the reminders that fell due while it was down,
/// which it plans only as there is room to send them, behind new notices.
struct NotifierOutage: Sendable, Equatable {
    var at: Int
    var seconds: Int

    /// `AT:SECONDS`, both whole seconds, SECONDS at least 1.
    init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let at = Int(parts[0]), let seconds = Int(parts[1]), at >= 0, seconds >= 1 else { return nil }
        self.at = at
        self.seconds = seconds
    }
}

/// One read of grid-notifier's `/metrics`: what waits, by kind.
struct NotifierBacklogSample: Sendable, Equatable {
    var at: UInt64
    var noticesDue: Double
    var remindersDue: Double
    /// How long the oldest due reminder has waited (s).
    var reminderAge: Double

    /// The `gridbus_notifier_due` and `gridbus_notifier_due_age_seconds` samples of the text; nil
    /// when any is missing.
    init?(metrics text: String, at: UInt64) {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
        guard let notices = values["gridbus_notifier_due{kind=\"notice\"}"], let reminders = values["gridbus_notifier_due{kind=\"reminder\"}"],
            let age = values["gridbus_notifier_due_age_seconds{kind=\"reminder\"}"]
        else { return nil }
        self.at = at
        noticesDue = notices
        remindersDue = reminders
        reminderAge = age
    }
}

enum EndToEndOutageReport {
    /// A Markdown table in `window`-second steps from `from` (ns) until the last report or sample:
    /// the reports due in each step and how long their notices took, and the most the notifier had
    /// waiting in it (— while it was down and answered nothing).
    static func table(
        trips: [(due: UInt64, arrival: UInt64)],
        samples: [NotifierBacklogSample],
        start: UInt64,
        from: UInt64,
        window: Int = 15
    ) -> String {
        let step = UInt64(window) * 1_000_000_000
        let end = max(trips.map(\.due).max() ?? from, samples.map(\.at).max() ?? from)
        var text = "| s into the run | reports due | p50 ms | p99 ms | max ms | notices due | reminders due | oldest reminder waiting s |\n"
        text += "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
        var low = from
        while low <= end {
            let high = low + step
            let latencies = trips.filter { $0.due >= low && $0.due < high }.map { Double($0.arrival - $0.due) / 1e6 }.sorted()
            let read = samples.filter { $0.at >= low && $0.at < high }
            func most(_ value: (NotifierBacklogSample) -> Double, _ format: String) -> String {
                read.isEmpty ? "—" : String(format: format, read.map(value).max()!)
            }
            text +=
                "| \((low - start) / 1_000_000_000)–\((high - start) / 1_000_000_000) | \(latencies.count) | "
                + (latencies.isEmpty
                    ? "– | – | – | "
                    : String(format: "%.1f | %.1f | %.0f | ", latencies.quantile(0.5), latencies.quantile(0.99), latencies.last!))
                + "\(most(\.noticesDue, "%.0f")) | \(most(\.remindersDue, "%.0f")) | \(most(\.reminderAge, "%.0f")) |\n"
            low = high
        }
        return text
    }
}
