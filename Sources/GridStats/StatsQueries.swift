import Foundation
import GridBusClient
import GridConfiguration
import GridDistrict
import GridJSON
import GridStore

/// The smaller questions: the points ledger, emergency periods, and the numbers behind /metrics.
extension Statistics {
    public struct PointsEntry: Sendable, Encodable, Equatable {
        public var member: String
        public var incident: String
        public var points: Int64
        public var at: Date
    }

    public struct PointsTotal: Sendable, Encodable, Equatable {
        public var member: String
        public var name: String?
        public var points: Int64
        public var tasks: Int64
    }

    /// Totals per member, most points first; with `member`, that member's history too.
    public func points(member: String?) async throws -> (totals: [PointsTotal], history: [PointsEntry]) {
        try await runtime.read { [district] connection in
            let totals = try StatsStore.pointTotals(member: member, on: connection).map {
                PointsTotal(member: $0.member, name: district.membersByID[$0.member]?.name, points: $0.points, tasks: $0.tasks)
            }
            let history = try member.map { member in
                try StatsStore.pointHistory(member: member, on: connection).map {
                    PointsEntry(member: member, incident: $0.incident, points: $0.points, at: $0.at)
                }
            }
            return (totals, history ?? [])
        }
    }

    public struct EmergencyPeriod: Sendable, Encodable, Equatable {
        public var place: String
        public var startedAt: Date
        public var endedAt: Date?
        public var startedBy: String
        public var reason: String?
        public var seconds: Double
    }

    /// Emergency-mode periods overlapping the days (all of them without days), and those still on.
    public func emergencies(from: String? = nil, to: String? = nil) async throws -> [EmergencyPeriod] {
        let now = self.now()
        let range = from.flatMap { start in to.flatMap { end in dayRange(start, end) } }
        return try await runtime.read { connection in
            try StatsStore.emergencyPeriods(on: connection).compactMap { period in
                if let range, period.started >= range.upperBound || (period.ended ?? now) < range.lowerBound { return nil }
                return EmergencyPeriod(
                    place: period.place,
                    startedAt: period.started,
                    endedAt: period.ended,
                    startedBy: period.startedBy,
                    reason: period.reason,
                    seconds: (period.ended ?? now).timeIntervalSince(period.started)
                )
            }
        }
    }

    /// The instants bounding reporting days `from`…`to` in the district's zone.
    func dayRange(_ from: String, _ to: String) -> Range<Date>? {
        func start(_ day: String) -> Date? {
            let parts = day.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 3 else { return nil }
            return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
        }
        guard let lower = start(from), let last = start(to), let upper = calendar.date(byAdding: .day, value: 1, to: last), lower < upper else {
            return nil
        }
        return lower..<upper
    }

    /// Per town: reports and registrations ever, cases open and overdue now, escalations ever,
    /// and on-time closure over the last 30 days.
    struct TownNumbers {
        var reports: Int64 = 0
        var registered: Int64 = 0
        var closed: Int64 = 0
        var escalations: Int64 = 0
        var open: Int64 = 0
        var overdueOpen: Int64 = 0
        var recentClosed: Int64 = 0
        var recentClosedOnTime: Int64 = 0
    }

    func metricNumbers() async throws -> (towns: [String: TownNumbers], notices: [String: (sent: Int64, failed: Int64)], emergencies: Int64) {
        let now = self.now()
        let since = day(now.addingTimeInterval(-30 * 86400))
        return try await runtime.read { [district] connection in
            var towns = try StatsStore.townSums(since: since, on: connection).mapValues {
                TownNumbers(
                    reports: $0.reports,
                    registered: $0.registered,
                    closed: $0.closed,
                    escalations: $0.escalations,
                    recentClosed: $0.recentClosed,
                    recentClosedOnTime: $0.recentClosedOnTime
                )
            }
            let nowMs = now.millisecondsSince1970
            for (grid, deadline) in try StatsStore.openCases(on: connection) {
                let town = district.gridsByID[grid]?.town ?? ""
                towns[town, default: TownNumbers()].open += 1
                if let deadline, deadline < nowMs { towns[town, default: TownNumbers()].overdueOpen += 1 }
            }
            return (towns, try StatsStore.noticeCountsByChannel(on: connection), try StatsStore.openEmergencyCount(on: connection))
        }
    }
}
