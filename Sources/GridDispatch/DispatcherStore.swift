import Foundation
import GridJSON
import GridSchema
import GridStore

/// The dispatcher's tables, beside the worker runtime's outbox and cursor in one SQLite file.
enum DispatcherStore {
    /// The schema's history (``Migrations``): never edit a released migration, add one.
    static let migrations: Migrations = {
        var migrations = Migrations()
        migrations.register(
            "dispatcher 1 cases, assignments, turns, request keys, modes",
            postgresql: StoreSQL.postgresqlSchema(fromSQLite: firstSchema) + [
                "CREATE INDEX cases_place ON cases (category, latitude)",
                // Request keys leave oldest first (``agedRequestKeys``), in the order SQLite's implicit rowid keeps.
                "ALTER TABLE processed ADD COLUMN rowid bigserial UNIQUE",
            ]
        ) { connection in
            try connection.execute(firstSchema)
            try adoptStoreFromBeforeMigrations(connection, now: Date())
            // The merge check looks up open cases of a category near a point, not every open case of it.
            try connection.execute("CREATE INDEX IF NOT EXISTS cases_place ON cases (category, latitude)")
        }
        return migrations
    }()

    private static let firstSchema = """
        CREATE TABLE IF NOT EXISTS cases (
            id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            grid TEXT,
            category TEXT NOT NULL,
            reported_ms INTEGER NOT NULL,
            timer_ms INTEGER,
            body BLOB NOT NULL,
            latitude REAL,
            longitude REAL
        );
        CREATE INDEX IF NOT EXISTS cases_category ON cases (category, reported_ms);
        CREATE INDEX IF NOT EXISTS cases_timer ON cases (timer_ms) WHERE timer_ms IS NOT NULL;
        CREATE TABLE IF NOT EXISTS assignments (case_id TEXT NOT NULL, member TEXT NOT NULL, PRIMARY KEY (case_id, member));
        CREATE INDEX IF NOT EXISTS assignments_member ON assignments (member);
        CREATE TABLE IF NOT EXISTS turns (key TEXT PRIMARY KEY, turn INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS processed (event_key TEXT PRIMARY KEY, at_ms INTEGER);
        CREATE TABLE IF NOT EXISTS modes (scope TEXT NOT NULL, target TEXT NOT NULL, since_ms INTEGER NOT NULL, by TEXT NOT NULL, PRIMARY KEY (scope, target));
        """

    /// GridJSON's format, without Foundation's cost: every event reads and rewrites a case.
    static let encoder = JSONTreeEncoder()
    static let decoder = JSONTreeDecoder()

    /// A store made before migrations were recorded may have an earlier shape of these tables:
    /// the first migration brings it to the first recorded one, once. Before the place columns,
    /// they are added and filled for the open cases (the only ones a merge looks at); before
    /// request keys were stamped, each is stamped now, so it is kept a whole window from the upgrade.
    static func adoptStoreFromBeforeMigrations(_ connection: any StoreConnection, now: Date) throws {
        func hasColumn(_ table: String, _ column: String) throws -> Bool {
            try connection.scalar("SELECT COUNT(*) FROM pragma_table_info('\(table)') WHERE name = '\(column)'") > 0
        }
        if try !hasColumn("cases", "latitude") {
            try connection.execute("ALTER TABLE cases ADD COLUMN latitude REAL; ALTER TABLE cases ADD COLUMN longitude REAL;")
            let open = try connection.prepare("SELECT body FROM cases WHERE state NOT IN ('closed', 'rejected', 'merged')")
            var cases: [DispatchCase] = []
            while try open.step() { cases.append(try decoder.decode(DispatchCase.self, from: open.blob(0))) }
            let update = try connection.prepare("UPDATE cases SET latitude = ?, longitude = ? WHERE id = ?")
            for item in cases {
                guard let location = item.location else { continue }
                update.bind(location.latitude, at: 1)
                update.bind(location.longitude, at: 2)
                update.bind(item.id, at: 3)
                try update.run()
                update.reset()
            }
        }
        if try !hasColumn("processed", "at_ms") {
            try connection.execute("ALTER TABLE processed ADD COLUMN at_ms INTEGER")
            try connection.execute("UPDATE processed SET at_ms = \(now.millisecondsSince1970)")
        }
    }

    static func load(_ id: String, on connection: any StoreConnection) throws -> DispatchCase? {
        let statement = try connection.prepare("SELECT body FROM cases WHERE id = ?")
        statement.bind(id, at: 1)
        return try statement.step() ? try decoder.decode(DispatchCase.self, from: statement.blob(0)) : nil
    }

    /// Inserts the case or updates it in place, and keeps its current assignees (for load) in step.
    ///
    /// Every event that touches a case saves it. An update sets only the columns that can change:
    /// category, report time and place are fixed when the case is made (`let` in ``DispatchCase``),
    /// so their indexes and the row's place are left alone (`INSERT OR REPLACE` deleted and
    /// re-inserted the row in the table and all four indexes each time). Likewise an assignee who
    /// stays is not deleted and inserted again.
    static func save(_ item: DispatchCase, on connection: any StoreConnection) throws {
        let statement = try connection.prepare(
            """
            INSERT INTO cases (id, state, grid, category, reported_ms, timer_ms, body, latitude, longitude) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET state = excluded.state, grid = excluded.grid, timer_ms = excluded.timer_ms, body = excluded.body
            """
        )
        statement.bind(item.id, at: 1)
        statement.bind(item.state.rawValue, at: 2)
        statement.bind(item.grid, at: 3)
        statement.bind(item.category, at: 4)
        statement.bind(item.reportedAt.millisecondsSince1970, at: 5)
        if let at = item.timerAt { statement.bind(at.millisecondsSince1970, at: 6) } else { statement.bindNull(at: 6) }
        statement.bind(try encoder.encode(item), at: 7)
        if let location = item.location {
            statement.bind(location.latitude, at: 8)
            statement.bind(location.longitude, at: 9)
        } else {
            statement.bindNull(at: 8)
            statement.bindNull(at: 9)
        }
        try statement.run()
        let assignees = item.isOpen ? item.assignees : []
        let clear = try connection.prepare(
            // PostgreSQL reads no empty list: with no assignee left, every row of the case goes.
            assignees.isEmpty
                ? "DELETE FROM assignments WHERE case_id = ?"
                : "DELETE FROM assignments WHERE case_id = ? AND member NOT IN (\(assignees.map { _ in "?" }.joined(separator: ",")))"
        )
        clear.bind(item.id, at: 1)
        for (index, member) in assignees.enumerated() { clear.bind(member, at: Int32(index + 2)) }
        try clear.run()
        guard item.isOpen else { return }
        let insert = try connection.prepare("INSERT INTO assignments (case_id, member) VALUES (?, ?) ON CONFLICT DO NOTHING")
        for member in item.assignees {
            insert.bind(item.id, at: 1)
            insert.bind(member, at: 2)
            try insert.run()
            insert.reset()
        }
    }

    /// Every case by id (for comparing a rebuilt store with the live one).
    static func all(on connection: any StoreConnection) throws -> [String: DispatchCase] {
        let statement = try connection.prepare("SELECT body FROM cases")
        var cases: [String: DispatchCase] = [:]
        while try statement.step() {
            let item = try decoder.decode(DispatchCase.self, from: statement.blob(0))
            cases[item.id] = item
        }
        return cases
    }

    static let loadSQL = "SELECT COUNT(*) FROM assignments WHERE member = ?"
    /// PostgreSQL's: the list as one JSON parameter, each member an index search.
    static let loadListSQL = """
        SELECT member, COUNT(*) FROM assignments
        WHERE member = ANY(ARRAY(SELECT json_array_elements_text(CAST(? AS json) -> 'members'))) GROUP BY member
        """

    /// Open cases per member, for the members asked about (those with none are left out).
    ///
    /// On SQLite, one search of the covering index each: `member IN (…) GROUP BY member` built a
    /// temporary table of the list every time, and its text (and so its prepared statement) changed
    /// with the list. On PostgreSQL, where each statement is a round trip, one for the whole list.
    static func load(of members: [String], on connection: any StoreConnection) throws -> [String: Int] {
        guard !members.isEmpty else { return [:] }
        if connection.engine == .postgresql {
            let statement = try connection.prepare(loadListSQL)
            let list = JSONObjectWriter.object { $0.strings("members", Array(Set(members))) }
            statement.bind(String(decoding: list, as: UTF8.self), at: 1)
            var load: [String: Int] = [:]
            while try statement.step() { load[statement.text(0) ?? ""] = Int(statement.int64(1)) }
            return load
        }
        let statement = try connection.prepare(loadSQL)
        var load: [String: Int] = [:]
        for member in Set(members) {
            statement.bind(member, at: 1)
            if try statement.step() {
                let count = Int(statement.int64(0))
                if count > 0 { load[member] = count }
            }
            statement.reset()
        }
        return load
    }

    static func turns(on connection: any StoreConnection) throws -> [String: Int] {
        let statement = try connection.prepare("SELECT key, turn FROM turns")
        var turns: [String: Int] = [:]
        while try statement.step() { turns[statement.text(0) ?? ""] = Int(statement.int64(1)) }
        return turns
    }

    static func saveTurns(_ turns: [String: Int], on connection: any StoreConnection) throws {
        let statement = try connection.prepare("INSERT INTO turns (key, turn) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET turn = excluded.turn")
        for (key, turn) in turns {
            statement.bind(key, at: 1)
            statement.bind(turn, at: 2)
            try statement.run()
            statement.reset()
        }
    }

    /// Open cases of `category` reported since `since` within about `meters` of `point` (candidates for
    /// a merge): a box in SQL, so that only the neighbours are decoded; the caller measures the distance.
    /// The place index is named: left to itself, SQLite took (category, reported_ms) and read every
    /// case of the category in the merge window, so the check grew with the open cases (run M).
    /// PostgreSQL's planner needs no hint (and reads none: `INDEXED BY` is SQLite's).
    static func nearbySQL(_ engine: StoreEngine) -> String {
        """
        SELECT body FROM cases \(engine == .sqlite ? "INDEXED BY cases_place " : "")WHERE category = ? AND latitude BETWEEN ? AND ? AND longitude BETWEEN ? AND ?
        AND reported_ms >= ? AND state NOT IN ('closed', 'rejected', 'merged') ORDER BY reported_ms
        """
    }

    static func openCases(
        category: String,
        since: Date,
        near point: GeoPoint,
        meters: Double,
        on connection: any StoreConnection
    ) throws -> [DispatchCase] {
        let statement = try connection.prepare(nearbySQL(connection.engine))
        // Degrees of the box, a little wider than the radius (a degree of latitude is at least 110.5 km).
        let latitudeSpan = meters / 110_000
        let longitudeSpan = meters / (110_000 * max(cos(point.latitude * .pi / 180), 0.01))
        statement.bind(category, at: 1)
        statement.bind(point.latitude - latitudeSpan, at: 2)
        statement.bind(point.latitude + latitudeSpan, at: 3)
        statement.bind(point.longitude - longitudeSpan, at: 4)
        statement.bind(point.longitude + longitudeSpan, at: 5)
        statement.bind(since.millisecondsSince1970, at: 6)
        var cases: [DispatchCase] = []
        while try statement.step() { cases.append(try decoder.decode(DispatchCase.self, from: statement.blob(0))) }
        return cases
    }

    /// The places in emergency mode, as `scope:target`.
    static func emergencies(on connection: any StoreConnection) throws -> Set<String> {
        let statement = try connection.prepare("SELECT scope, target FROM modes")
        var places = Set<String>()
        while try statement.step() { places.insert("\(statement.text(0) ?? ""):\(statement.text(1) ?? "")") }
        return places
    }

    static func setMode(scope: String, target: String, emergency: Bool, by: String, at: Date, on connection: any StoreConnection) throws {
        let statement = try connection.prepare(
            emergency
                ? """
                INSERT INTO modes (scope, target, since_ms, by) VALUES (?, ?, ?, ?)
                ON CONFLICT (scope, target) DO UPDATE SET since_ms = excluded.since_ms, by = excluded.by
                """
                : "DELETE FROM modes WHERE scope = ? AND target = ?"
        )
        statement.bind(scope, at: 1)
        statement.bind(target, at: 2)
        if emergency {
            statement.bind(at.millisecondsSince1970, at: 3)
            statement.bind(by, at: 4)
        }
        try statement.run()
    }

    static func openCount(on connection: any StoreConnection) throws -> Int {
        Int(try connection.scalar("SELECT COUNT(*) FROM cases WHERE state NOT IN ('closed', 'rejected', 'merged')"))
    }

    /// How many cases have a timer due at `now` (from the timers' partial index).
    static func dueCount(at now: Date, on connection: any StoreConnection) throws -> Int {
        let statement = try connection.prepare("SELECT COUNT(*) FROM cases WHERE timer_ms IS NOT NULL AND timer_ms <= ?")
        statement.bind(now.millisecondsSince1970, at: 1)
        return try statement.step() ? Int(statement.int64(0)) : 0
    }

    /// Cases whose timer is due at `now`, oldest first.
    static func due(at now: Date, limit: Int, on connection: any StoreConnection) throws -> [DispatchCase] {
        let statement = try connection.prepare("SELECT body FROM cases WHERE timer_ms IS NOT NULL AND timer_ms <= ? ORDER BY timer_ms LIMIT ?")
        statement.bind(now.millisecondsSince1970, at: 1)
        statement.bind(limit, at: 2)
        var cases: [DispatchCase] = []
        while try statement.step() { cases.append(try decoder.decode(DispatchCase.self, from: statement.blob(0))) }
        return cases
    }

    /// Records a request key once, stamped `now`; false when it was seen before (within the
    /// idempotency window: older keys leave, ``agedRequestKeys``).
    static func firstTime(_ key: String, at now: Date, on connection: any StoreConnection) throws -> Bool {
        let statement = try connection.prepare("INSERT INTO processed (event_key, at_ms) VALUES (?, ?) ON CONFLICT DO NOTHING")
        statement.bind(key, at: 1)
        statement.bind(now.millisecondsSince1970, at: 2)
        try statement.run()
        return connection.changes == 1
    }

    /// Request keys leave after `requests.idempotency-window`: a retry comes within minutes.
    static let agedRequestKeys = AgedRows(table: "processed", stampColumn: "at_ms")

}
