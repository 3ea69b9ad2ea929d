import Foundation
import GridJSON
import GridStore

// What a fold writes: points, notices and emergency periods as they happen, and each batch's sums
// added to the roll-ups.
extension StatsStore {
    /// A closed case's points, once per member and case.
    static func award(_ points: [String: Int], for incident: String, at time: Date, on connection: any StoreConnection) throws {
        let statement = try connection.prepare("INSERT INTO points (member, incident, points, at_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
        for (member, amount) in points.sorted(by: { $0.key < $1.key }) {
            statement.bind(member, at: 1)
            statement.bind(incident, at: 2)
            statement.bind(amount, at: 3)
            statement.bind(time.millisecondsSince1970, at: 4)
            try statement.run()
            statement.reset()
        }
    }

    /// Records a notice's outcome once; false when it was counted before (a redelivery).
    static func firstSight(ofNotice id: String, key: Statistics.NoticeKey, sent: Bool, on connection: any StoreConnection) throws -> Bool {
        let statement = try connection.prepare("INSERT INTO notices (id, day, channel, town, sent) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
        statement.bind(id, at: 1)
        statement.bind(key.day, at: 2)
        statement.bind(key.channel, at: 3)
        statement.bind(key.town, at: 4)
        statement.bind(sent ? 1 : 0, at: 5)
        try statement.run()
        return connection.changes == 1
    }

    /// Records a mode change once; false when it was applied before (a redelivery).
    static func firstSight(ofModeChange event: String, on connection: any StoreConnection) throws -> Bool {
        let statement = try connection.prepare("INSERT INTO applied_modes (event) VALUES (?) ON CONFLICT DO NOTHING")
        statement.bind(event, at: 1)
        try statement.run()
        return connection.changes == 1
    }

    /// Opens an emergency period at `place`; false when one is open there already (it goes on).
    static func startEmergency(
        place: String,
        event: String,
        at time: Date,
        by: String,
        reason: String?,
        on connection: any StoreConnection
    ) throws -> Bool {
        let open = try connection.prepare("SELECT 1 FROM emergencies WHERE place = ? AND ended_ms IS NULL")
        open.bind(place, at: 1)
        guard !(try open.step()) else { return false }
        let statement = try connection.prepare("INSERT INTO emergencies (event, place, started_ms, started_by, reason) VALUES (?, ?, ?, ?, ?)")
        statement.bind(event, at: 1)
        statement.bind(place, at: 2)
        statement.bind(time.millisecondsSince1970, at: 3)
        statement.bind(by, at: 4)
        statement.bind(reason, at: 5)
        try statement.run()
        return true
    }

    static func endEmergency(place: String, at time: Date, on connection: any StoreConnection) throws {
        let statement = try connection.prepare("UPDATE emergencies SET ended_ms = ? WHERE place = ? AND ended_ms IS NULL")
        statement.bind(time.millisecondsSince1970, at: 1)
        statement.bind(place, at: 2)
        try statement.run()
    }

    /// Adds sums to a roll-up level: each target is the level's column values, each total one per measure.
    /// (The stored row is named by its table in the sums: PostgreSQL finds a bare name ambiguous.)
    static func addToRollup(_ level: RollupLevel, _ sums: [[String]: [Int64]], on connection: any StoreConnection) throws {
        let measures = Measure.allCases.map(\.column)
        let columns = level.columns + measures
        let upsert = try connection.prepare(
            """
            INSERT INTO \(level.table) (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))
            ON CONFLICT (\(level.keys.joined(separator: ", "))) DO UPDATE SET \(measures.map { "\($0) = \(level.table).\($0) + excluded.\($0)" }.joined(separator: ", "))
            """
        )
        for (target, total) in sums where total.contains(where: { $0 != 0 }) {
            for (index, value) in target.enumerated() { upsert.bind(value, at: Int32(index + 1)) }
            for (index, value) in total.enumerated() { upsert.bind(value, at: Int32(target.count + index + 1)) }
            try upsert.run()
            upsert.reset()
        }
    }

    /// Adds histogram counts to a level's durations: each target is the level's column values, the
    /// metric and the bucket.
    static func addToDurations(_ level: RollupLevel, _ counts: [[String]: Int64], on connection: any StoreConnection) throws {
        let durations = try connection.prepare(
            """
            INSERT INTO \(level.durationsTable) (\(level.columns.joined(separator: ", ")), metric, bucket, count) VALUES (\((level.columns + ["m", "b", "c"]).map { _ in "?" }.joined(separator: ", ")))
            ON CONFLICT (\(level.keys.joined(separator: ", ")), metric, bucket) DO UPDATE SET count = \(level.durationsTable).count + excluded.count
            """
        )
        for (target, count) in counts where count != 0 {
            for (index, value) in target.dropLast().enumerated() { durations.bind(value, at: Int32(index + 1)) }
            durations.bind(Int(target.last!)!, at: Int32(target.count))
            durations.bind(count, at: Int32(target.count + 1))
            try durations.run()
            durations.reset()
        }
    }

    /// Adds sums per day and member.
    static func addToMemberRollup(_ members: [String: [String: [Int64]]], on connection: any StoreConnection) throws {
        let columns = Measure.allCases.map(\.column)
        let member = try connection.prepare(
            """
            INSERT INTO member_rollup (day, member, \(columns.joined(separator: ", "))) VALUES (?, ?, \(columns.map { _ in "?" }.joined(separator: ", ")))
            ON CONFLICT (day, member) DO UPDATE SET \(columns.map { "\($0) = member_rollup.\($0) + excluded.\($0)" }.joined(separator: ", "))
            """
        )
        for (day, sums) in members {
            for (id, values) in sums where values.contains(where: { $0 != 0 }) {
                member.bind(day, at: 1)
                member.bind(id, at: 2)
                for (index, value) in values.enumerated() { member.bind(value, at: Int32(3 + index)) }
                try member.run()
                member.reset()
            }
        }
    }

    /// Adds notice outcomes per day, channel and town.
    static func addToNoticeRollup(
        _ rows: [(day: String, channel: String, town: String, sent: Int64, failed: Int64)],
        on connection: any StoreConnection
    ) throws {
        let notices = try connection.prepare(
            """
            INSERT INTO notice_rollup (day, channel, town, sent, failed) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (day, channel, town) DO UPDATE SET sent = notice_rollup.sent + excluded.sent, failed = notice_rollup.failed + excluded.failed
            """
        )
        for row in rows {
            notices.bind(row.day, at: 1)
            notices.bind(row.channel, at: 2)
            notices.bind(row.town, at: 3)
            notices.bind(row.sent, at: 4)
            notices.bind(row.failed, at: 5)
            try notices.run()
            notices.reset()
        }
    }
}
