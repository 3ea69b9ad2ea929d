import Foundation
import GridStore

/// Every table the numbers come from, as sorted rows of text: two stores hold the same statistics
/// when their snapshots are equal.
public struct StatsSnapshot: Sendable, Equatable {
    public var tables: [String: [String]]

    /// Rows whose measures all came back to zero (a case that moved to another day, grid or
    /// category) hold nothing; whether one exists depends on how events fell into batches.
    static var nonZero: String { Measure.allCases.map { "\($0.column) != 0" }.joined(separator: " OR ") }

    static let queries = Dictionary(
        uniqueKeysWithValues: RollupLevel.all.flatMap { level in
            [
                (level.table, "SELECT * FROM \(level.table) WHERE \(nonZero) ORDER BY \(level.keys.joined(separator: ", "))"),
                (
                    level.durationsTable,
                    "SELECT * FROM \(level.durationsTable) WHERE count != 0 ORDER BY \(level.keys.joined(separator: ", ")), metric, bucket"
                ),
            ]
        }
    ).merging([
        "member_rollup": "SELECT * FROM member_rollup WHERE \(nonZero) ORDER BY day, member",
        "notice_rollup": "SELECT * FROM notice_rollup ORDER BY day, channel, town",
        "points": "SELECT * FROM points ORDER BY member, incident",
        "emergencies": "SELECT place, started_ms, ended_ms, started_by, reason FROM emergencies ORDER BY started_ms, place",
        "cases": "SELECT id, day, grid, category, open, deadline_ms, body FROM cases ORDER BY id",
    ]) { first, _ in first }

    public static func read(_ connection: any StoreConnection) throws -> StatsSnapshot {
        var tables: [String: [String]] = [:]
        for (name, sql) in queries {
            let statement = try connection.prepare(sql)
            var rows: [String] = []
            while try statement.step() {
                var fields: [String] = []
                var index: Int32 = 0
                while index < statement.columnCount {
                    fields.append(statement.isNull(index) ? "NULL" : (statement.text(index) ?? ""))
                    index += 1
                }
                rows.append(fields.joined(separator: "|"))
            }
            tables[name] = rows
        }
        return StatsSnapshot(tables: tables)
    }

    public static func differences(live: StatsSnapshot, rebuilt: StatsSnapshot) -> [String] {
        live.tables.keys.sorted().compactMap { name in
            let (a, b) = (live.tables[name] ?? [], rebuilt.tables[name] ?? [])
            guard a != b else { return nil }
            let onlyLive = Set(a).subtracting(b).count
            let onlyRebuilt = Set(b).subtracting(a).count
            return "\(name): \(onlyLive) rows only in the live store, \(onlyRebuilt) only in the rebuilt one"
        }
    }
}
