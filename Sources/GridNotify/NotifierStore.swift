import Foundation
import GridJSON
import GridSchema
import GridStore

/// A notice on its way: one recipient, one state change of one incident, on one channel.
struct DeliveryRow: Sendable {
    enum Status: String, Sendable {
        /// Waiting for its time (group wait, quiet hours).
        case pending
        /// Handed to a channel; after a crash, in doubt and sent again under the same message id.
        case sending
        /// Waiting to be tried again after a temporary failure.
        case retry
        case sent, failed
        /// Not sent: a silence matched, emergency mode muted it, or the case moved on first.
        case silenced, muted, cancelled
    }

    var id: Int64
    var key: String
    var notificationId: String
    var recipient: Recipient
    var incident: String?
    var type: String
    var priority: String?
    var grid: String?
    var category: String?
    var urgent: Bool
    var facts: [String: String]
    var channelIndex: Int
    var channel: String
    var status: Status
    var createdAt: Int64
    var dueAt: Int64
    var attempts: Int
    var messageId: String?
    var detail: String?
}

/// The notifier's tables, beside the worker runtime's outbox and cursor in one SQLite file.
enum NotifierStore {
    /// The schema's history (``Migrations``): never edit a released migration, add one.
    static let migrations: Migrations = {
        var migrations = Migrations()
        migrations.register("notifier 1 incidents, modes, the notification log, reminders, silences") { connection in
            try adoptStoreFromBeforeMigrations(connection)
            try connection.execute(firstSchema)
            try addStepColumnToStoreFromBeforeMigrations(connection)
        }
        return migrations
    }()

    private static let firstSchema = """
        CREATE TABLE IF NOT EXISTS incidents (
            id TEXT PRIMARY KEY, grid TEXT, category TEXT, priority TEXT, emergency INTEGER NOT NULL DEFAULT 0,
            reporter TEXT, assignees TEXT, acknowledge_by TEXT, deadline TEXT, step INTEGER
        );
        CREATE TABLE IF NOT EXISTS modes (place TEXT PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS deliveries (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            notification_id TEXT NOT NULL,
            recipient TEXT NOT NULL,
            recipient_id TEXT NOT NULL,
            incident TEXT, type TEXT NOT NULL, priority TEXT, grid TEXT, category TEXT,
            urgent INTEGER NOT NULL,
            facts TEXT NOT NULL,
            channel_index INTEGER NOT NULL,
            channel TEXT NOT NULL,
            status TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            due_ms INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            message_id TEXT,
            detail TEXT,
            provider_id TEXT,
            done_ms INTEGER
        );
        CREATE INDEX IF NOT EXISTS deliveries_incident ON deliveries (incident);
        -- The other indexes hold only the notices still on their way, not the log of every notice
        -- sent: they stay small and in the cache, and a notice sent leaves them for good.
        CREATE INDEX IF NOT EXISTS deliveries_waiting_due ON deliveries (due_ms) WHERE \(isWaiting);
        CREATE INDEX IF NOT EXISTS deliveries_waiting_recipient ON deliveries (recipient_id, channel) WHERE \(isWaitingAlone);
        CREATE INDEX IF NOT EXISTS deliveries_sending ON deliveries (channel) WHERE \(isSending);
        CREATE INDEX IF NOT EXISTS deliveries_retry_message ON deliveries (message_id) WHERE \(isRetrying);
        CREATE TABLE IF NOT EXISTS reminders (
            incident TEXT NOT NULL, recipient_id TEXT NOT NULL, dispatch TEXT NOT NULL, next_ms INTEGER NOT NULL, count INTEGER NOT NULL,
            PRIMARY KEY (incident, recipient_id)
        );
        -- The sweep each second reads the due ones; without this it scanned every open dispatch.
        CREATE INDEX IF NOT EXISTS reminders_due ON reminders (next_ms);
        -- And the due ones of one member, to send them together.
        CREATE INDEX IF NOT EXISTS reminders_recipient ON reminders (recipient_id, next_ms);
        CREATE TABLE IF NOT EXISTS silences (
            id TEXT PRIMARY KEY, matchers TEXT NOT NULL, starts_ms INTEGER NOT NULL, ends_ms INTEGER NOT NULL, created_by TEXT NOT NULL, comment TEXT
        );
        """

    /// GridJSON's format, without Foundation's cost.
    static let encoder = JSONTreeEncoder()
    static let decoder = JSONTreeDecoder()

    /// The states of a notice on its way, as the partial indexes' and the queries' terms. SQLite
    /// takes a partial index only for a query that states its term the same way: both use these.
    static let isWaiting = "status IN ('pending', 'retry')"
    static let isWaitingAlone = "status = 'pending' AND message_id IS NULL"
    static let isSending = "status = 'sending'"
    static let isRetrying = "status = 'retry'"
    /// Will not change any more (sent, failed, silenced, muted, cancelled): may leave the log with age.
    static let isSettled = "status NOT IN ('pending', 'retry', 'sending')"

    /// A store made before migrations were recorded may have the full indexes the partial ones
    /// replaced, which every notice passed through three times (planned, claimed, sent).
    private static func adoptStoreFromBeforeMigrations(_ connection: SQLiteConnection) throws {
        try connection.execute(
            "DROP INDEX IF EXISTS deliveries_due; DROP INDEX IF EXISTS deliveries_recipient; DROP INDEX IF EXISTS deliveries_message"
        )
    }

    /// A store made before migrations were recorded, and before the notifier kept each case's last
    /// step, gets the column (nil: none heard yet); the first schema has it.
    private static func addStepColumnToStoreFromBeforeMigrations(_ connection: SQLiteConnection) throws {
        guard try connection.scalar("SELECT COUNT(*) FROM pragma_table_info('incidents') WHERE name = 'step'") == 0 else { return }
        try connection.execute("ALTER TABLE incidents ADD COLUMN step INTEGER")
    }

    /// Messages handed to a channel when the last run stopped are in doubt: they go back to retry.
    static func recoverSendsInDoubt(_ connection: SQLiteConnection) throws {
        try connection.execute("UPDATE deliveries SET status = 'retry' WHERE \(isSending)")
    }

    static func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
    static func value<T: Decodable>(_ type: T.Type, _ text: String?) -> T? { text.flatMap { try? decoder.decode(T.self, from: Array($0.utf8)) } }

    // MARK: Incidents and modes

    struct IncidentFacts: Sendable {
        var id: String
        var grid: String?
        var category: String?
        var priority: Priority?
        var emergency: Bool
        var reporter: Reporter?
        var assignees: [String]
        var acknowledgeBy: String?
        var deadline: String?
        /// The dispatcher's last step heard for the case (``CaseStep``).
        var step: Int? = nil

        /// A case heard of first by an event after its report: nothing known yet but its grid.
        static func unreported(_ id: String, grid: String?) -> IncidentFacts {
            IncidentFacts(
                id: id,
                grid: grid,
                category: nil,
                priority: nil,
                emergency: false,
                reporter: nil,
                assignees: [],
                acknowledgeBy: nil,
                deadline: nil
            )
        }
    }

    static func incident(_ id: String, on connection: SQLiteConnection) throws -> IncidentFacts? {
        let statement = try connection.prepare(
            "SELECT grid, category, priority, emergency, reporter, assignees, acknowledge_by, deadline, step FROM incidents WHERE id = ?"
        )
        statement.bind(id, at: 1)
        guard try statement.step() else { return nil }
        return IncidentFacts(
            id: id,
            grid: statement.text(0),
            category: statement.text(1),
            priority: statement.text(2).flatMap(Priority.init(rawValue:)),
            emergency: statement.int64(3) != 0,
            reporter: value(Reporter.self, statement.text(4)),
            assignees: value([String].self, statement.text(5)) ?? [],
            acknowledgeBy: statement.text(6),
            deadline: statement.text(7),
            step: statement.isNull(8) ? nil : Int(statement.int64(8))
        )
    }

    /// Inserts the facts or updates them in place (`INSERT OR REPLACE` deleted the row and its key and
    /// inserted both again, on every event about the incident).
    static func save(_ facts: IncidentFacts, on connection: SQLiteConnection) throws {
        let statement = try connection.prepare(
            """
            INSERT INTO incidents (id, grid, category, priority, emergency, reporter, assignees, acknowledge_by, deadline, step) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET grid = excluded.grid, category = excluded.category, priority = excluded.priority, emergency = excluded.emergency,
                reporter = excluded.reporter, assignees = excluded.assignees, acknowledge_by = excluded.acknowledge_by, deadline = excluded.deadline, step = excluded.step
            """
        )
        statement.bind(facts.id, at: 1)
        statement.bind(facts.grid, at: 2)
        statement.bind(facts.category, at: 3)
        statement.bind(facts.priority?.rawValue, at: 4)
        statement.bind(facts.emergency ? 1 : 0, at: 5)
        statement.bind(try facts.reporter.map(json), at: 6)
        statement.bind(try json(facts.assignees), at: 7)
        statement.bind(facts.acknowledgeBy, at: 8)
        statement.bind(facts.deadline, at: 9)
        if let step = facts.step { statement.bind(step, at: 10) } else { statement.bindNull(at: 10) }
        try statement.run()
    }

    static func setMode(place: String, emergency: Bool, on connection: SQLiteConnection) throws {
        let statement = try connection.prepare(emergency ? "INSERT OR IGNORE INTO modes (place) VALUES (?)" : "DELETE FROM modes WHERE place = ?")
        statement.bind(place, at: 1)
        try statement.run()
    }

    static func emergencies(on connection: SQLiteConnection) throws -> Set<String> {
        let statement = try connection.prepare("SELECT place FROM modes")
        var places = Set<String>()
        while try statement.step() { places.insert(statement.text(0) ?? "") }
        return places
    }

    // MARK: Deliveries

    /// Inserts the notice unless one with its key exists (the same state change told before).
    static func insert(_ row: DeliveryRow, on connection: SQLiteConnection) throws -> Bool {
        let statement = try connection.prepare(
            """
            INSERT OR IGNORE INTO deliveries (key, notification_id, recipient, recipient_id, incident, type, priority, grid, category, urgent, facts,
                channel_index, channel, status, created_ms, due_ms, attempts, message_id, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        )
        statement.bind(row.key, at: 1)
        statement.bind(row.notificationId, at: 2)
        statement.bind(try json(row.recipient), at: 3)
        statement.bind(row.recipient.id, at: 4)
        statement.bind(row.incident, at: 5)
        statement.bind(row.type, at: 6)
        statement.bind(row.priority, at: 7)
        statement.bind(row.grid, at: 8)
        statement.bind(row.category, at: 9)
        statement.bind(row.urgent ? 1 : 0, at: 10)
        statement.bind(try json(row.facts), at: 11)
        statement.bind(row.channelIndex, at: 12)
        statement.bind(row.channel, at: 13)
        statement.bind(row.status.rawValue, at: 14)
        statement.bind(row.createdAt, at: 15)
        statement.bind(row.dueAt, at: 16)
        statement.bind(row.attempts, at: 17)
        statement.bind(row.messageId, at: 18)
        statement.bind(row.detail, at: 19)
        try statement.run()
        return try connection.scalar("SELECT changes()") == 1
    }

    static let columns =
        "id, key, notification_id, recipient, incident, type, priority, grid, category, urgent, facts, channel_index, channel, status, created_ms, due_ms, attempts, message_id, detail"

    static func row(_ statement: SQLiteStatement) -> DeliveryRow? {
        guard let recipient = value(Recipient.self, statement.text(3)), let status = DeliveryRow.Status(rawValue: statement.text(13) ?? "") else {
            return nil
        }
        return DeliveryRow(
            id: statement.int64(0),
            key: statement.text(1) ?? "",
            notificationId: statement.text(2) ?? "",
            recipient: recipient,
            incident: statement.text(4),
            type: statement.text(5) ?? "",
            priority: statement.text(6),
            grid: statement.text(7),
            category: statement.text(8),
            urgent: statement.int64(9) != 0,
            facts: value([String: String].self, statement.text(10)) ?? [:],
            channelIndex: Int(statement.int64(11)),
            channel: statement.text(12) ?? "",
            status: status,
            createdAt: statement.int64(14),
            dueAt: statement.int64(15),
            attempts: Int(statement.int64(16)),
            messageId: statement.text(17),
            detail: statement.text(18)
        )
    }

    /// The most notices one message holds: a member with more waiting gets several.
    static let noticesPerMessage = 100

    /// The claim's reads, each along a partial index in the order asked (no sort of its own).
    static let claimSQL = (
        due: "SELECT \(columns) FROM deliveries WHERE \(isWaiting) AND due_ms <= ? ORDER BY due_ms, id LIMIT ?",
        waiting: "SELECT \(columns) FROM deliveries WHERE recipient_id = ? AND channel = ? AND \(isWaitingAlone) AND due_ms <= ? ORDER BY id LIMIT ?",
        retrying: "SELECT \(columns) FROM deliveries WHERE message_id = ? AND \(isRetrying) ORDER BY id"
    )

    /// Rows ready to go at `now` (waiting ones and ones to try again), in the order they fell due,
    /// at most `limit`, for as long as `take` asks for more. Nothing may be written until it returns.
    static func due(at now: Int64, limit: Int, on connection: SQLiteConnection, take: (DeliveryRow) -> Bool) throws {
        let statement = try connection.prepare(claimSQL.due)
        statement.bind(now, at: 1)
        statement.bind(limit, at: 2)
        while try statement.step() {
            if let row = row(statement), !take(row) { break }
        }
        statement.reset()
    }

    /// Notices not yet in a message for a recipient on a channel, due by `dueBy`, at most `limit`.
    static func waiting(recipient: String, channel: String, dueBy: Int64, limit: Int, on connection: SQLiteConnection) throws -> [DeliveryRow] {
        let statement = try connection.prepare(claimSQL.waiting)
        statement.bind(recipient, at: 1)
        statement.bind(channel, at: 2)
        statement.bind(dueBy, at: 3)
        statement.bind(limit, at: 4)
        var rows: [DeliveryRow] = []
        while try statement.step() { if let row = row(statement) { rows.append(row) } }
        return rows
    }

    /// The notices of a message to be tried again.
    static func retrying(messageId: String, on connection: SQLiteConnection) throws -> [DeliveryRow] {
        let statement = try connection.prepare(claimSQL.retrying)
        statement.bind(messageId, at: 1)
        var rows: [DeliveryRow] = []
        while try statement.step() { if let row = row(statement) { rows.append(row) } }
        return rows
    }

    static func rows(incident: String, on connection: SQLiteConnection) throws -> [DeliveryRow] {
        let statement = try connection.prepare("SELECT \(columns) FROM deliveries WHERE incident = ? ORDER BY id")
        statement.bind(incident, at: 1)
        var rows: [DeliveryRow] = []
        while try statement.step() { if let row = row(statement) { rows.append(row) } }
        return rows
    }

    static func update(
        _ ids: [Int64],
        status: DeliveryRow.Status,
        dueAt: Int64? = nil,
        attempts: Int? = nil,
        messageId: String? = nil,
        detail: String? = nil,
        providerId: String? = nil,
        doneAt: Int64? = nil,
        on connection: SQLiteConnection
    ) throws {
        let statement = try connection.prepare(
            """
            UPDATE deliveries SET status = ?, due_ms = COALESCE(?, due_ms), attempts = COALESCE(?, attempts), message_id = COALESCE(?, message_id),
                detail = COALESCE(?, detail), provider_id = COALESCE(?, provider_id), done_ms = COALESCE(?, done_ms) WHERE id = ?
            """
        )
        for id in ids {
            statement.bind(status.rawValue, at: 1)
            if let dueAt { statement.bind(dueAt, at: 2) } else { statement.bindNull(at: 2) }
            if let attempts { statement.bind(attempts, at: 3) } else { statement.bindNull(at: 3) }
            statement.bind(messageId, at: 4)
            statement.bind(detail, at: 5)
            statement.bind(providerId, at: 6)
            if let doneAt { statement.bind(doneAt, at: 7) } else { statement.bindNull(at: 7) }
            statement.bind(id, at: 8)
            try statement.run()
            statement.reset()
        }
    }

    static let cancelRemindersSQL =
        "UPDATE deliveries SET status = 'cancelled', detail = 'the case moved on' WHERE incident = ? AND type = 'reminder' AND \(isWaiting)"

    /// Reminders not yet sent for an incident that moved on.
    static func cancelReminders(incident: String, on connection: SQLiteConnection) throws {
        let clear = try connection.prepare("DELETE FROM reminders WHERE incident = ?")
        clear.bind(incident, at: 1)
        try clear.run()
        let cancel = try connection.prepare(cancelRemindersSQL)
        cancel.bind(incident, at: 1)
        try cancel.run()
    }

    // MARK: Reminders

    struct Reminder: Sendable {
        var incident: String
        var recipientId: String
        var dispatch: String
        var count: Int
    }

    static func remind(incident: String, recipients: [String], dispatch: String, next: Int64, on connection: SQLiteConnection) throws {
        try cancelReminders(incident: incident, on: connection)
        let statement = try connection.prepare(
            "INSERT OR REPLACE INTO reminders (incident, recipient_id, dispatch, next_ms, count) VALUES (?, ?, ?, ?, 0)"
        )
        for recipient in recipients {
            statement.bind(incident, at: 1)
            statement.bind(recipient, at: 2)
            statement.bind(dispatch, at: 3)
            statement.bind(next, at: 4)
            try statement.run()
            statement.reset()
        }
    }

    /// The reminders waiting for an operator's look: one incident's, one member's, or the soonest
    /// of all; each along an index (`reminders`' key, `reminders_recipient`, `reminders_due`).
    static let waitingRemindersSQL = (
        incident: "SELECT incident, recipient_id, dispatch, count, next_ms FROM reminders WHERE incident = ? ORDER BY next_ms LIMIT ?",
        recipient: "SELECT incident, recipient_id, dispatch, count, next_ms FROM reminders WHERE recipient_id = ? ORDER BY next_ms LIMIT ?",
        all: "SELECT incident, recipient_id, dispatch, count, next_ms FROM reminders ORDER BY next_ms LIMIT ?"
    )

    /// Reminders not yet over, soonest first, at most `limit`: of `incident`, of `recipient`, of
    /// both, or of everyone.
    static func waitingReminders(
        incident: String?,
        recipient: String?,
        limit: Int,
        on connection: SQLiteConnection
    ) throws
        -> [(reminder: Reminder, nextAt: Int64)]
    {
        let statement: SQLiteStatement
        switch (incident, recipient) {
        case (let incident?, _):
            // A reminder per assignee, a handful: a member asked for too is picked out of them.
            statement = try connection.prepare(waitingRemindersSQL.incident)
            statement.bind(incident, at: 1)
            statement.bind(Int.max, at: 2)
        case (nil, let recipient?):
            statement = try connection.prepare(waitingRemindersSQL.recipient)
            statement.bind(recipient, at: 1)
            statement.bind(limit, at: 2)
        case (nil, nil):
            statement = try connection.prepare(waitingRemindersSQL.all)
            statement.bind(limit, at: 1)
        }
        var found: [(reminder: Reminder, nextAt: Int64)] = []
        while found.count < limit, try statement.step() {
            let reminder = Reminder(
                incident: statement.text(0) ?? "",
                recipientId: statement.text(1) ?? "",
                dispatch: statement.text(2) ?? "",
                count: Int(statement.int64(3))
            )
            if let recipient, reminder.recipientId != recipient { continue }
            found.append((reminder, statement.int64(4)))
        }
        statement.reset()
        return found
    }

    /// The sweep's reads: whose reminders have waited longest, then each one's due reminders.
    static let dueRemindersSQL = (
        longestWaiting: "SELECT recipient_id FROM reminders WHERE next_ms <= ? ORDER BY next_ms LIMIT ?",
        ofRecipient: "SELECT incident, recipient_id, dispatch, count FROM reminders WHERE recipient_id = ? AND next_ms <= ? ORDER BY next_ms LIMIT ?"
    )

    /// The due reminders of the `recipients` members whose reminders have waited longest, each
    /// member's together (up to one message's worth) so that they go as one message, not one
    /// message each; at most `limit` in all.
    static func dueReminders(at now: Int64, recipients: Int, limit: Int, on connection: SQLiteConnection) throws -> [Reminder] {
        var members: [String] = []
        var seen: Set<String> = []
        let longest = try connection.prepare(dueRemindersSQL.longestWaiting)
        longest.bind(now, at: 1)
        longest.bind(limit, at: 2)
        while members.count < recipients, try longest.step() {
            let member = longest.text(0) ?? ""
            if seen.insert(member).inserted { members.append(member) }
        }
        longest.reset()
        var reminders: [Reminder] = []
        let ofRecipient = try connection.prepare(dueRemindersSQL.ofRecipient)
        for member in members where reminders.count < limit {
            ofRecipient.bind(member, at: 1)
            ofRecipient.bind(now, at: 2)
            ofRecipient.bind(min(noticesPerMessage, limit - reminders.count), at: 3)
            while try ofRecipient.step() {
                reminders.append(
                    Reminder(
                        incident: ofRecipient.text(0) ?? "",
                        recipientId: ofRecipient.text(1) ?? "",
                        dispatch: ofRecipient.text(2) ?? "",
                        count: Int(ofRecipient.int64(3))
                    )
                )
            }
            ofRecipient.reset()
        }
        return reminders
    }

    static func advance(_ reminder: Reminder, next: Int64?, on connection: SQLiteConnection) throws {
        let statement = try connection.prepare(
            next == nil
                ? "DELETE FROM reminders WHERE incident = ? AND recipient_id = ?"
                : "UPDATE reminders SET count = count + 1, next_ms = ? WHERE incident = ? AND recipient_id = ?"
        )
        var index: Int32 = 1
        if let next {
            statement.bind(next, at: 1)
            index = 2
        }
        statement.bind(reminder.incident, at: index)
        statement.bind(reminder.recipientId, at: index + 1)
        try statement.run()
    }

    // MARK: Backlog

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
    static func backlog(at now: Int64, on connection: SQLiteConnection) throws -> NotifierBacklog {
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

    static func saveSilence(_ silence: Silence, on connection: SQLiteConnection) throws {
        let statement = try connection.prepare(
            "INSERT OR REPLACE INTO silences (id, matchers, starts_ms, ends_ms, created_by, comment) VALUES (?, ?, ?, ?, ?, ?)"
        )
        statement.bind(silence.id, at: 1)
        statement.bind(try json(silence.matchers), at: 2)
        statement.bind(silence.startsAt.millisecondsSince1970, at: 3)
        statement.bind(silence.endsAt.millisecondsSince1970, at: 4)
        statement.bind(silence.createdBy, at: 5)
        statement.bind(silence.comment, at: 6)
        try statement.run()
    }

    static func silences(activeAt now: Int64?, on connection: SQLiteConnection) throws -> [Silence] {
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
