import Foundation
import GridJSON
import GridSchema
import GridStore

/// The statistics' tables, beside the worker runtime's cursor in one SQLite file. The roll-ups
/// hold sums per reporting day, grid and category (and per day and member); every indicator is a
/// quotient of sums, so a query reads days × places rows, never the cases. The roll-ups are
/// clustered by day (`WITHOUT ROWID`): a period is one contiguous range of the table.
enum StatsStore {
    static var measureColumns: String { Measure.allCases.map { "\($0.column) INTEGER NOT NULL DEFAULT 0" }.joined(separator: ", ") }

    /// The schema's history (``Migrations``): never edit a released migration, add one.
    static let migrations: Migrations = {
        var migrations = Migrations()
        // Written to be safe on a store made before migrations were recorded: it had these tables.
        migrations.register(
            "stats 1 cases, roll-ups, notices, points, emergencies",
            sql: firstSchema,
            postgresql: StoreSQL.postgresqlSchema(fromSQLite: firstSchema)
        )
        return migrations
    }()

    /// Written out, not derived from ``Measure`` and ``RollupLevel``: a released migration never
    /// changes, and a new measure is a new migration that adds its columns.
    private static let firstSchema = """
        CREATE TABLE IF NOT EXISTS cases (
            id TEXT PRIMARY KEY, day TEXT, grid TEXT, category TEXT, open INTEGER NOT NULL, deadline_ms INTEGER, body BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS cases_open ON cases (open, deadline_ms) WHERE open = 1;
        CREATE TABLE IF NOT EXISTS rollup (
            day TEXT NOT NULL, grid TEXT NOT NULL, category TEXT NOT NULL, community TEXT NOT NULL, town TEXT NOT NULL,
            reports INTEGER NOT NULL DEFAULT 0, registered INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,
            merged INTEGER NOT NULL DEFAULT 0, dispatched INTEGER NOT NULL DEFAULT 0, timely_dispatched INTEGER NOT NULL DEFAULT 0,
            returned INTEGER NOT NULL DEFAULT 0, acknowledged INTEGER NOT NULL DEFAULT 0,
            acknowledge_seconds INTEGER NOT NULL DEFAULT 0, handled INTEGER NOT NULL DEFAULT 0,
            handle_seconds INTEGER NOT NULL DEFAULT 0, handled_on_time INTEGER NOT NULL DEFAULT 0,
            closed INTEGER NOT NULL DEFAULT 0, closed_on_time INTEGER NOT NULL DEFAULT 0, reworked INTEGER NOT NULL DEFAULT 0,
            escalations INTEGER NOT NULL DEFAULT 0, overdue INTEGER NOT NULL DEFAULT 0, reopened INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, grid, category)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS durations (
            day TEXT NOT NULL, grid TEXT NOT NULL, category TEXT NOT NULL, community TEXT NOT NULL, town TEXT NOT NULL, metric TEXT NOT NULL, bucket INTEGER NOT NULL, count INTEGER NOT NULL,
            PRIMARY KEY (day, grid, category, metric, bucket)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS rollup_place (
            day TEXT NOT NULL, grid TEXT NOT NULL, community TEXT NOT NULL, town TEXT NOT NULL,
            reports INTEGER NOT NULL DEFAULT 0, registered INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,
            merged INTEGER NOT NULL DEFAULT 0, dispatched INTEGER NOT NULL DEFAULT 0, timely_dispatched INTEGER NOT NULL DEFAULT 0,
            returned INTEGER NOT NULL DEFAULT 0, acknowledged INTEGER NOT NULL DEFAULT 0,
            acknowledge_seconds INTEGER NOT NULL DEFAULT 0, handled INTEGER NOT NULL DEFAULT 0,
            handle_seconds INTEGER NOT NULL DEFAULT 0, handled_on_time INTEGER NOT NULL DEFAULT 0,
            closed INTEGER NOT NULL DEFAULT 0, closed_on_time INTEGER NOT NULL DEFAULT 0, reworked INTEGER NOT NULL DEFAULT 0,
            escalations INTEGER NOT NULL DEFAULT 0, overdue INTEGER NOT NULL DEFAULT 0, reopened INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, grid)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS durations_place (
            day TEXT NOT NULL, grid TEXT NOT NULL, community TEXT NOT NULL, town TEXT NOT NULL, metric TEXT NOT NULL, bucket INTEGER NOT NULL, count INTEGER NOT NULL,
            PRIMARY KEY (day, grid, metric, bucket)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS rollup_category (
            day TEXT NOT NULL, town TEXT NOT NULL, category TEXT NOT NULL,
            reports INTEGER NOT NULL DEFAULT 0, registered INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,
            merged INTEGER NOT NULL DEFAULT 0, dispatched INTEGER NOT NULL DEFAULT 0, timely_dispatched INTEGER NOT NULL DEFAULT 0,
            returned INTEGER NOT NULL DEFAULT 0, acknowledged INTEGER NOT NULL DEFAULT 0,
            acknowledge_seconds INTEGER NOT NULL DEFAULT 0, handled INTEGER NOT NULL DEFAULT 0,
            handle_seconds INTEGER NOT NULL DEFAULT 0, handled_on_time INTEGER NOT NULL DEFAULT 0,
            closed INTEGER NOT NULL DEFAULT 0, closed_on_time INTEGER NOT NULL DEFAULT 0, reworked INTEGER NOT NULL DEFAULT 0,
            escalations INTEGER NOT NULL DEFAULT 0, overdue INTEGER NOT NULL DEFAULT 0, reopened INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, town, category)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS durations_category (
            day TEXT NOT NULL, town TEXT NOT NULL, category TEXT NOT NULL, metric TEXT NOT NULL, bucket INTEGER NOT NULL, count INTEGER NOT NULL,
            PRIMARY KEY (day, town, category, metric, bucket)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS member_rollup (
            day TEXT NOT NULL, member TEXT NOT NULL,
            reports INTEGER NOT NULL DEFAULT 0, registered INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,
            merged INTEGER NOT NULL DEFAULT 0, dispatched INTEGER NOT NULL DEFAULT 0, timely_dispatched INTEGER NOT NULL DEFAULT 0,
            returned INTEGER NOT NULL DEFAULT 0, acknowledged INTEGER NOT NULL DEFAULT 0,
            acknowledge_seconds INTEGER NOT NULL DEFAULT 0, handled INTEGER NOT NULL DEFAULT 0,
            handle_seconds INTEGER NOT NULL DEFAULT 0, handled_on_time INTEGER NOT NULL DEFAULT 0,
            closed INTEGER NOT NULL DEFAULT 0, closed_on_time INTEGER NOT NULL DEFAULT 0, reworked INTEGER NOT NULL DEFAULT 0,
            escalations INTEGER NOT NULL DEFAULT 0, overdue INTEGER NOT NULL DEFAULT 0, reopened INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, member)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS notices (id TEXT PRIMARY KEY, day TEXT NOT NULL, channel TEXT NOT NULL, town TEXT NOT NULL, sent INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS notice_rollup (
            day TEXT NOT NULL, channel TEXT NOT NULL, town TEXT NOT NULL, sent INTEGER NOT NULL, failed INTEGER NOT NULL,
            PRIMARY KEY (day, channel, town)
        );
        CREATE TABLE IF NOT EXISTS points (member TEXT NOT NULL, incident TEXT NOT NULL, points INTEGER NOT NULL, at_ms INTEGER NOT NULL, PRIMARY KEY (member, incident));
        CREATE TABLE IF NOT EXISTS emergencies (
            event TEXT PRIMARY KEY, place TEXT NOT NULL, started_ms INTEGER NOT NULL, ended_ms INTEGER, started_by TEXT NOT NULL, reason TEXT
        );
        CREATE INDEX IF NOT EXISTS emergencies_open ON emergencies (place) WHERE ended_ms IS NULL;
        CREATE TABLE IF NOT EXISTS applied_modes (event TEXT PRIMARY KEY);
        """

    static func loadCase(_ id: String, on connection: any StoreConnection) throws -> CaseRecord? {
        let statement = try connection.prepare("SELECT body FROM cases WHERE id = ?")
        statement.bind(id, at: 1)
        return try statement.step() ? try CaseRecord(json: statement.blob(0)) : nil
    }

    static func saveCase(_ record: CaseRecord, day: String, on connection: any StoreConnection) throws {
        let statement = try connection.prepare(
            """
            INSERT INTO cases (id, day, grid, category, open, deadline_ms, body) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET day = excluded.day, grid = excluded.grid, category = excluded.category, open = excluded.open,
                deadline_ms = excluded.deadline_ms, body = excluded.body
            """
        )
        statement.bind(record.id, at: 1)
        statement.bind(day, at: 2)
        statement.bind(record.grid, at: 3)
        statement.bind(record.category, at: 4)
        statement.bind(record.isOpen ? 1 : 0, at: 5)
        if let deadline = record.deadline { statement.bind(deadline.millisecondsSince1970, at: 6) } else { statement.bindNull(at: 6) }
        statement.bind(record.json, at: 7)
        try statement.run()
    }
}
