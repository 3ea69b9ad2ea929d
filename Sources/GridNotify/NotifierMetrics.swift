import Foundation
import GridBusClient
import GridHTTP
import GridJSON
import GridMetrics
import Synchronization

/// What waits in the notifier's store at one moment. The outcomes of notices are events that the
/// statistics count; what has not happened yet is not, and after an outage or with a slow gateway
/// that is what an operator needs to see.
struct NotifierBacklog: Sendable, Equatable {
    struct Open: Sendable, Equatable {
        var status: String
        var channel: String
        var count: Int
    }

    /// Things due and not yet taken up, and since when the oldest of them has been due (ms).
    struct Due: Sendable, Equatable {
        var count = 0
        var oldestDueAt: Int64?
    }

    /// Notices not settled yet, by status (pending, retry, sending) and channel.
    var open: [Open] = []
    /// Notices due now and not yet claimed: they wait for room among the messages in flight.
    var notices = Due()
    /// Reminders due now and not yet planned: the backlog after an outage waits here
    /// (`DeliveryService` plans them for only as many members as there is room for messages).
    var reminders = Due()
}

extension Notifier {
    /// What waits at `now` (ms; the clock's time when nil).
    func backlog(at now: Int64? = nil) async throws -> NotifierBacklog {
        let now = now ?? self.now().millisecondsSince1970
        return try await runtime.read { try NotifierStore.backlog(at: now, on: $0) }
    }

    /// `/metrics`: the backlog, read from the store at scrape time. Labels are statuses, channels
    /// and kinds, a handful of values each; no recipient or incident.
    public func metricsText() async throws -> String {
        let now = self.now().millisecondsSince1970
        let backlog = try await self.backlog(at: now)
        let kinds = [("notice", backlog.notices), ("reminder", backlog.reminders)]
        var output = PrometheusText()
        output.family(
            "gridbus_notifier_open_notices",
            "gauge",
            "Notices not settled yet, by status (pending: waiting for its time; retry: to be tried again; sending: handed to a channel) and channel.",
            openSamples(backlog.open)
        )
        output.family(
            "gridbus_notifier_due",
            "gauge",
            "Due and not yet taken up: notices waiting for room among the messages in flight, reminders waiting to be planned.",
            kinds.map { ([("kind", $0.0)], Double($0.1.count)) }
        )
        output.family(
            "gridbus_notifier_due_age_seconds",
            "gauge",
            "How long the oldest of them has been due (0: nothing waits).",
            kinds.map { ([("kind", $0.0)], $0.1.oldestDueAt.map { Double(max(0, now - $0)) / 1000 } ?? 0) }
        )
        output.family(
            "gridbus_notifier_log_removed_total",
            "counter",
            "Settled notices removed from the notification log by age (notification-log.max-age).",
            [([], Double(removedFromLog.load(ordering: .relaxed)))]
        )
        return output.text
    }

    /// Every status of every channel, 0 when none: a series that comes and goes reads as a gap.
    private func openSamples(_ open: [NotifierBacklog.Open]) -> [PrometheusText.Sample] {
        let channels = Set(self.channels.keys).union(open.map(\.channel)).sorted()
        return [DeliveryRow.Status.pending, .retry, .sending].map(\.rawValue).flatMap { status in
            channels.map { channel in
                let count = open.first { $0.status == status && $0.channel == channel }?.count ?? 0
                return ([("status", status), ("channel", channel)], Double(count))
            }
        }
    }
}
