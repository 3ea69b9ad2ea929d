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
        migrations.register(
            "notifier 1 incidents, modes, the notification log, reminders, silences",
            postgresql: StoreSQL.postgresqlSchema(fromSQLite: firstSchema)
        ) { connection in
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
    private static func adoptStoreFromBeforeMigrations(_ connection: any StoreConnection) throws {
        try connection.execute(
            "DROP INDEX IF EXISTS deliveries_due; DROP INDEX IF EXISTS deliveries_recipient; DROP INDEX IF EXISTS deliveries_message"
        )
    }

    /// A store made before migrations were recorded, and before the notifier kept each case's last
    /// step, gets the column (nil: none heard yet); the first schema has it.
    private static func addStepColumnToStoreFromBeforeMigrations(_ connection: any StoreConnection) throws {
        guard try connection.scalar("SELECT COUNT(*) FROM pragma_table_info('incidents') WHERE name = 'step'") == 0 else { return }
        try connection.execute("ALTER TABLE incidents ADD COLUMN step INTEGER")
    }

    /// Messages handed to a channel when the last run stopped are in doubt: they go back to retry.
    static func recoverSendsInDoubt(_ connection: any StoreConnection) throws {
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

    static func incident(_ id: String, on connection: any StoreConnection) throws -> IncidentFacts? {
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
    static func save(_ facts: IncidentFacts, on connection: any StoreConnection) throws {
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

    static func setMode(place: String, emergency: Bool, on connection: any StoreConnection) throws {
        let statement = try connection.prepare(
            emergency ? "INSERT INTO modes (place) VALUES (?) ON CONFLICT DO NOTHING" : "DELETE FROM modes WHERE place = ?"
        )
        statement.bind(place, at: 1)
        try statement.run()
    }

    static func emergencies(on connection: any StoreConnection) throws -> Set<String> {
        let statement = try connection.prepare("SELECT place FROM modes")
        var places = Set<String>()
        while try statement.step() { places.insert(statement.text(0) ?? "") }
        return places
    }
}
