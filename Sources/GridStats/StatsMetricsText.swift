import Foundation
import GridBusClient
import GridConfiguration
import GridDistrict
import GridHTTP
import GridMetrics
import GridStore

extension Statistics {
    /// `/metrics`: per town (a label of a handful of values), per channel, and the worker's own
    /// counters. No per-incident, per-grid or per-member labels.
    public func metricsText() async throws -> String {
        let numbers = try await metricNumbers()
        let towns = numbers.towns.keys.sorted()
        func perTown(_ value: (TownNumbers) -> Double) -> [(labels: [(String, String)], value: Double)] {
            towns.map { ([("town", $0.isEmpty ? "none" : $0)], value(numbers.towns[$0]!)) }
        }
        var output = PrometheusText()
        output.family(
            "gridbus_stats_reports_total",
            "counter",
            "Incidents reported, by the town of their grid (none: outside every grid).",
            perTown { Double($0.reports) }
        )
        output.family("gridbus_stats_registered_total", "counter", "Incidents registered as cases, by town.", perTown { Double($0.registered) })
        output.family("gridbus_stats_escalations_total", "counter", "Escalations of cases, by town.", perTown { Double($0.escalations) })
        output.family(
            "gridbus_stats_closed_cases",
            "gauge",
            "Cases closed (a reopened case leaves until it is closed again), by town.",
            perTown { Double($0.closed) }
        )
        output.family("gridbus_stats_open_cases", "gauge", "Cases registered and not yet closed, by town.", perTown { Double($0.open) })
        output.family("gridbus_stats_overdue_open_cases", "gauge", "Open cases past their deadline now, by town.", perTown { Double($0.overdueOpen) })
        output.family(
            "gridbus_stats_on_time_closure_ratio",
            "gauge",
            "Share of the cases reported in the last 30 days and closed that were closed on time, by town.",
            towns.compactMap { town in
                let values = numbers.towns[town]!
                return values.recentClosed > 0
                    ? ([("town", town.isEmpty ? "none" : town)], Double(values.recentClosedOnTime) / Double(values.recentClosed)) : nil
            }
        )
        output.family(
            "gridbus_stats_notifications_total",
            "counter",
            "Notifications by channel and outcome (sent, failed).",
            numbers.notices.keys.sorted().flatMap { channel in
                [
                    ([("channel", channel), ("outcome", "sent")], Double(numbers.notices[channel]!.sent)),
                    ([("channel", channel), ("outcome", "failed")], Double(numbers.notices[channel]!.failed)),
                ]
            }
        )
        output.family(
            "gridbus_stats_emergency_places",
            "gauge",
            "Places (grids, communities, towns, the district) in emergency mode now.",
            [([], Double(numbers.emergencies))]
        )
        output.family(
            "gridbus_stats_events_ingested_total",
            "counter",
            "Events folded into the statistics since this process started.",
            [([], Double(eventsIngested))]
        )
        output.family(
            "gridbus_stats_events_skipped_total",
            "counter",
            "Events the statistics could not read, since this process started.",
            [([], Double(eventsSkipped))]
        )
        return output.text
    }
}
