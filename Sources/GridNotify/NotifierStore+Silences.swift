import Foundation
import GridJSON
import GridSchema
import GridStore

// What waits (the backlog /metrics shows), and the silences.
extension NotifierStore {
    /// The reads of `backlog(at:on:)`. A scrape must not scan the log of every notice ever sent:
    /// each reads a partial index of the notices on their way, or `reminders_due`.
    static let backlogSQL = (
        open: """
        SELECT status, channel, COUNT(*) FROM deliveries WHERE \(isWaiting) GROUP BY status, channel
        UNION ALL SELECT 'sending', channel, COUNT(*) FROM deliveries WHERE \(isSending) GROUP BY channel
        """,
        notices: "SELECT COUNT(*), MIN(due_ms) FROM deliveries WHERE \(isWaiting) AND due_ms <= ?",
        reminders: "SELECT COUNT(*), MIN(next_ms) FROM reminders WHERE next_ms <= ?"
    )

    /// What waits to be sent at `now`, for `/metrics`.
    static func backlog(at now: Int64, on connection: any StoreConnection) throws -> NotifierBacklog {
        var backlog = NotifierBacklog()
        let open = try connection.prepare(backlogSQL.open)
        while try open.step() {
            backlog.open.append(.init(status: open.text(0) ?? "", channel: open.text(1) ?? "", count: Int(open.int64(2))))
        }
        let due = try connection.prepare(backlogSQL.notices)
        due.bind(now, at: 1)
        if try due.step() { backlog.notices = NotifierBacklog.Due(count: Int(due.int64(0)), oldestDueAt: due.isNull(1) ? nil : due.int64(1)) }
        let reminders = try connection.prepare(backlogSQL.reminders)
        reminders.bind(now, at: 1)
        if try reminders.step() {
            backlog.reminders = NotifierBacklog.Due(count: Int(reminders.int64(0)), oldestDueAt: reminders.isNull(1) ? nil : reminders.int64(1))
        }
        return backlog
    }

    // MARK: Silences

    static func saveSilence(_ silence: Silence, on connection: any StoreConnection) throws {
        let statement = try connection.prepare(
            """
            INSERT INTO silences (id, matchers, starts_ms, ends_ms, created_by, comment) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET matchers = excluded.matchers, starts_ms = excluded.starts_ms, ends_ms = excluded.ends_ms,
                created_by = excluded.created_by, comment = excluded.comment
            """
        )
        statement.bind(silence.id, at: 1)
        statement.bind(try json(silence.matchers), at: 2)
        statement.bind(silence.startsAt.millisecondsSince1970, at: 3)
        statement.bind(silence.endsAt.millisecondsSince1970, at: 4)
        statement.bind(silence.createdBy, at: 5)
        statement.bind(silence.comment, at: 6)
        try statement.run()
    }

    static func silences(activeAt now: Int64?, on connection: any StoreConnection) throws -> [Silence] {
        let statement = try connection.prepare(
            "SELECT id, matchers, starts_ms, ends_ms, created_by, comment FROM silences \(now == nil ? "" : "WHERE starts_ms <= ?1 AND ends_ms > ?1") ORDER BY starts_ms, id"
        )
        if let now { statement.bind(now, at: 1) }
        var silences: [Silence] = []
        while try statement.step() {
            silences.append(
                Silence(
                    id: statement.text(0) ?? "",
                    matchers: value(Silence.Matchers.self, statement.text(1)) ?? Silence.Matchers(),
                    startsAt: Date(millisecondsSince1970: (statement.int64(2))),
                    endsAt: Date(millisecondsSince1970: (statement.int64(3))),
                    createdBy: statement.text(4) ?? "",
                    comment: statement.text(5)
                )
            )
        }
        return silences
    }
}
