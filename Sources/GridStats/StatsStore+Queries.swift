import Foundation
import GridJSON
import GridStore

// What the statistics' answers read: sums of the roll-ups over a period and places, the open
// cases, the points ledger and the emergency periods.
extension StatsStore {
    /// The part of a query that selects roll-up rows: its days, places and category prefix.
    static func filter(_ query: IndicatorQuery) -> (sql: String, values: [String]) {
        var clauses = ["day BETWEEN ? AND ?"]
        var values = [query.from, query.to]
        for (column, value) in [("town", query.town), ("community", query.community), ("grid", query.grid)] {
            if let value {
                clauses.append("\(column) = ?")
                values.append(value)
            }
        }
        if let category = query.category {
            clauses.append("category LIKE ? ESCAPE '\\'")
            values.append(
                category.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                    .replacingOccurrences(of: "_", with: "\\_") + "%"
            )
        }
        return (clauses.joined(separator: " AND "), values)
    }

    /// The column a query groups by (the district: one group).
    static func groupColumn(_ dimension: IndicatorQuery.Dimension) -> String {
        switch dimension {
        case .district: "''"
        case .member: "member"
        default: dimension.rawValue
        }
    }

    private static var measureSums: String { Measure.allCases.map { "SUM(\($0.column))" }.joined(separator: ", ") }

    /// Each group's sums, one per measure, from the coarsest level that serves the query (per member
    /// from the members' roll-up).
    static func sums(_ query: IndicatorQuery, on connection: any StoreConnection) throws -> [String: [Int64]] {
        let statement: any StoreStatement
        if query.by == .member {
            statement = try connection.prepare("SELECT member, \(measureSums) FROM member_rollup WHERE day BETWEEN ? AND ? GROUP BY member")
            statement.bind(query.from, at: 1)
            statement.bind(query.to, at: 2)
        } else {
            let group = groupColumn(query.by)
            let (clause, values) = filter(query)
            statement = try connection.prepare(
                "SELECT \(group), \(measureSums) FROM \(RollupLevel.serving(query).table) WHERE \(clause) GROUP BY 1"
            )
            for (index, value) in values.enumerated() { statement.bind(value, at: Int32(index + 1)) }
        }
        var rows: [String: [Int64]] = [:]
        while try statement.step() { rows[statement.text(0) ?? ""] = Measure.allCases.indices.map { statement.int64(Int32($0 + 1)) } }
        return rows
    }

    /// Each group's histograms of acknowledgement and handling times: metric → bucket → count.
    static func durationHistograms(_ query: IndicatorQuery, on connection: any StoreConnection) throws -> [String: [String: [Int: Int64]]] {
        let (clause, values) = filter(query)
        let statement = try connection.prepare(
            "SELECT \(groupColumn(query.by)), metric, bucket, SUM(count) FROM \(RollupLevel.serving(query).durationsTable) WHERE \(clause) GROUP BY 1, metric, bucket"
        )
        for (index, value) in values.enumerated() { statement.bind(value, at: Int32(index + 1)) }
        var histograms: [String: [String: [Int: Int64]]] = [:]
        while try statement.step() {
            histograms[statement.text(0) ?? "", default: [:]][statement.text(1) ?? "", default: [:]][Int(statement.int64(2))] = statement.int64(3)
        }
        return histograms
    }

    /// Open cases whose deadline is before `now` (ms): their grid, category and record.
    static func openCasesPastDeadline(_ now: Int64, on connection: any StoreConnection) throws -> [(grid: String, category: String, record: [UInt8])]
    {
        let statement = try connection.prepare("SELECT grid, category, body FROM cases WHERE open = 1 AND deadline_ms < ?")
        statement.bind(now, at: 1)
        var cases: [(String, String, [UInt8])] = []
        while try statement.step() { cases.append((statement.text(0) ?? "", statement.text(1) ?? "", statement.blob(2))) }
        return cases
    }

    /// Notices sent and failed per group (district, town or day) over the query's days and town.
    static func noticeCounts(_ query: IndicatorQuery, on connection: any StoreConnection) throws -> [String: (sent: Int64, failed: Int64)] {
        let group = query.by == .district ? "''" : query.by.rawValue
        var sql = "SELECT \(group), SUM(sent), SUM(failed) FROM notice_rollup WHERE day BETWEEN ? AND ?"
        var values = [query.from, query.to]
        if let town = query.town {
            sql += " AND town = ?"
            values.append(town)
        }
        let statement = try connection.prepare(sql + " GROUP BY 1")
        for (index, value) in values.enumerated() { statement.bind(value, at: Int32(index + 1)) }
        var counts: [String: (Int64, Int64)] = [:]
        while try statement.step() { counts[statement.text(0) ?? ""] = (statement.int64(1), statement.int64(2)) }
        return counts
    }

    /// Points and tasks per member (of one member when given), most points first.
    static func pointTotals(member: String?, on connection: any StoreConnection) throws -> [(member: String, points: Int64, tasks: Int64)] {
        let statement = try connection.prepare(
            "SELECT member, SUM(points), COUNT(*) FROM points \(member == nil ? "" : "WHERE member = ?1") GROUP BY member ORDER BY 2 DESC, member"
        )
        if let member { statement.bind(member, at: 1) }
        var totals: [(String, Int64, Int64)] = []
        while try statement.step() { totals.append((statement.text(0) ?? "", statement.int64(1), statement.int64(2))) }
        return totals
    }

    /// One member's points, oldest first.
    static func pointHistory(member: String, on connection: any StoreConnection) throws -> [(incident: String, points: Int64, at: Date)] {
        let statement = try connection.prepare("SELECT incident, points, at_ms FROM points WHERE member = ? ORDER BY at_ms, incident")
        statement.bind(member, at: 1)
        var entries: [(String, Int64, Date)] = []
        while try statement.step() { entries.append((statement.text(0) ?? "", statement.int64(1), Date(millisecondsSince1970: statement.int64(2)))) }
        return entries
    }

    /// Every emergency period, oldest first.
    static func emergencyPeriods(
        on connection: any StoreConnection
    ) throws -> [(
        place: String, started: Date, ended: Date?, startedBy: String, reason: String?
    )] {
        let statement = try connection.prepare("SELECT place, started_ms, ended_ms, started_by, reason FROM emergencies ORDER BY started_ms, place")
        var periods: [(String, Date, Date?, String, String?)] = []
        while try statement.step() {
            periods.append(
                (
                    statement.text(0) ?? "", Date(millisecondsSince1970: statement.int64(1)),
                    statement.isNull(2) ? nil : Date(millisecondsSince1970: statement.int64(2)), statement.text(3) ?? "", statement.text(4)
                )
            )
        }
        return periods
    }

    /// Per town: reports, registrations, closures and escalations ever, and closures (on time) from `since` on.
    static func townSums(
        since: String,
        on connection: any StoreConnection
    ) throws -> [String: (
        reports: Int64, registered: Int64, closed: Int64, escalations: Int64, recentClosed: Int64, recentClosedOnTime: Int64
    )] {
        let statement = try connection.prepare(
            "SELECT town, SUM(reports), SUM(registered), SUM(closed), SUM(escalations), SUM(CASE WHEN day >= ?1 THEN closed END), SUM(CASE WHEN day >= ?1 THEN closed_on_time END) FROM rollup_category GROUP BY town"
        )
        statement.bind(since, at: 1)
        var towns: [String: (Int64, Int64, Int64, Int64, Int64, Int64)] = [:]
        while try statement.step() {
            towns[statement.text(0) ?? ""] = (
                statement.int64(1), statement.int64(2), statement.int64(3), statement.int64(4), statement.int64(5), statement.int64(6)
            )
        }
        return towns
    }

    /// Every open case's grid and deadline (ms).
    static func openCases(on connection: any StoreConnection) throws -> [(grid: String, deadline: Int64?)] {
        let statement = try connection.prepare("SELECT grid, deadline_ms FROM cases WHERE open = 1")
        var cases: [(String, Int64?)] = []
        while try statement.step() { cases.append((statement.text(0) ?? "", statement.isNull(1) ? nil : statement.int64(1))) }
        return cases
    }

    /// Notices sent and failed per channel, ever.
    static func noticeCountsByChannel(on connection: any StoreConnection) throws -> [String: (sent: Int64, failed: Int64)] {
        let statement = try connection.prepare("SELECT channel, SUM(sent), SUM(failed) FROM notice_rollup GROUP BY channel")
        var counts: [String: (Int64, Int64)] = [:]
        while try statement.step() { counts[statement.text(0) ?? ""] = (statement.int64(1), statement.int64(2)) }
        return counts
    }

    static func openEmergencyCount(on connection: any StoreConnection) throws -> Int64 {
        try connection.scalar("SELECT COUNT(*) FROM emergencies WHERE ended_ms IS NULL")
    }
}
