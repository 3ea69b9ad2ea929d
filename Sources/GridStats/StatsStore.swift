import Foundation
import GridSchema
import GridStore

/// The statistics' tables, beside the worker runtime's cursor in one SQLite file. The roll-ups
/// hold sums per reporting day, grid and category (and per day and member); every indicator is a
/// quotient of sums, so a query reads days × places rows, never the cases. The roll-ups are
/// clustered by day (`WITHOUT ROWID`): a period is one contiguous range of the table.
enum StatsStore {
    static var measureColumns: String { Measure.allCases.map { "\($0.column) INTEGER NOT NULL DEFAULT 0" }.joined(separator: ", ") }

    static var schema: String {
        """
        CREATE TABLE IF NOT EXISTS cases (
            id TEXT PRIMARY KEY, day TEXT, grid TEXT, category TEXT, open INTEGER NOT NULL, deadline_ms INTEGER, body BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS cases_open ON cases (open, deadline_ms) WHERE open = 1;
        \(RollupLevel.all.map { $0.schema(measures: measureColumns) }.joined(separator: "\n"))
        CREATE TABLE IF NOT EXISTS member_rollup (day TEXT NOT NULL, member TEXT NOT NULL, \(measureColumns), PRIMARY KEY (day, member)) WITHOUT ROWID;
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
    }

    static func prepare(_ connection: SQLiteConnection) throws { try connection.execute(schema) }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    static func loadCase(_ id: String, on connection: SQLiteConnection) throws -> CaseRecord? {
        let statement = try connection.prepare("SELECT body FROM cases WHERE id = ?")
        statement.bind(id, at: 1)
        return try statement.step() ? try CaseRecord(json: statement.blob(0)) : nil
    }

    static func saveCase(_ record: CaseRecord, day: String, on connection: SQLiteConnection) throws {
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
        if let deadline = record.deadline { statement.bind(milliseconds(deadline), at: 6) } else { statement.bindNull(at: 6) }
        statement.bind(record.json, at: 7)
        try statement.run()
    }
}
