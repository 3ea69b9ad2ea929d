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
            let totals = try connection.prepare(
                "SELECT member, SUM(points), COUNT(*) FROM points \(member == nil ? "" : "WHERE member = ?1") GROUP BY member ORDER BY 2 DESC, member"
            )
            if let member { totals.bind(member, at: 1) }
            var list: [PointsTotal] = []
            while try totals.step() {
                let id = totals.text(0) ?? ""
                list.append(PointsTotal(member: id, name: district.membersByID[id]?.name, points: totals.int64(1), tasks: totals.int64(2)))
            }
            var history: [PointsEntry] = []
            if let member {
                let entries = try connection.prepare("SELECT incident, points, at_ms FROM points WHERE member = ? ORDER BY at_ms, incident")
                entries.bind(member, at: 1)
                while try entries.step() {
                    history.append(
                        PointsEntry(
                            member: member,
                            incident: entries.text(0) ?? "",
                            points: entries.int64(1),
                            at: Date(millisecondsSince1970: (entries.int64(2)))
                        )
                    )
                }
            }
            return (list, history)
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
            let statement = try connection.prepare(
                "SELECT place, started_ms, ended_ms, started_by, reason FROM emergencies ORDER BY started_ms, place"
            )
            var periods: [EmergencyPeriod] = []
            while try statement.step() {
                let started = Date(millisecondsSince1970: (statement.int64(1)))
                let ended = statement.isNull(2) ? nil : Date(millisecondsSince1970: (statement.int64(2)))
                if let range, started >= range.upperBound || (ended ?? now) < range.lowerBound { continue }
                periods.append(
                    EmergencyPeriod(
                        place: statement.text(0) ?? "",
                        startedAt: started,
                        endedAt: ended,
                        startedBy: statement.text(3) ?? "",
                        reason: statement.text(4),
                        seconds: (ended ?? now).timeIntervalSince(started)
                    )
                )
            }
            return periods
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
            var towns: [String: TownNumbers] = [:]
            let sums = try connection.prepare(
                "SELECT town, SUM(reports), SUM(registered), SUM(closed), SUM(escalations), SUM(CASE WHEN day >= ?1 THEN closed END), SUM(CASE WHEN day >= ?1 THEN closed_on_time END) FROM rollup_category GROUP BY town"
            )
            sums.bind(since, at: 1)
            while try sums.step() {
                towns[sums.text(0) ?? "", default: TownNumbers()] = TownNumbers(
                    reports: sums.int64(1),
                    registered: sums.int64(2),
                    closed: sums.int64(3),
                    escalations: sums.int64(4),
                    recentClosed: sums.int64(5),
                    recentClosedOnTime: sums.int64(6)
                )
            }
            let open = try connection.prepare("SELECT grid, deadline_ms FROM cases WHERE open = 1")
            let nowMs = now.millisecondsSince1970
            while try open.step() {
                let town = district.gridsByID[open.text(0) ?? ""]?.town ?? ""
                towns[town, default: TownNumbers()].open += 1
                if !open.isNull(1) && open.int64(1) < nowMs { towns[town, default: TownNumbers()].overdueOpen += 1 }
            }
            var notices: [String: (Int64, Int64)] = [:]
            let channels = try connection.prepare("SELECT channel, SUM(sent), SUM(failed) FROM notice_rollup GROUP BY channel")
            while try channels.step() { notices[channels.text(0) ?? ""] = (channels.int64(1), channels.int64(2)) }
            let emergencies = try connection.scalar("SELECT COUNT(*) FROM emergencies WHERE ended_ms IS NULL")
            return (towns, notices, emergencies)
        }
    }
}
