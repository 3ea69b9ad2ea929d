import Foundation
import GridJSON
import GridSchema
import GridStore

/// The intake's tables, next to the worker runtime's outbox in one SQLite file. Every function
/// runs on the connection it is given, inside the caller's transaction.
enum IntakeStore {
    /// The schema's history (``Migrations``): never edit a released migration, add one.
    static let migrations: Migrations = {
        var migrations = Migrations()
        // Written to be safe on a store made before migrations were recorded: it had these tables.
        migrations.register(
            "intake 1 incidents and lifecycle events seen",
            sql: firstSchema,
            postgresql: StoreSQL.postgresqlSchema(fromSQLite: firstSchema)
        )
        return migrations
    }()

    private static let firstSchema = """
        CREATE TABLE IF NOT EXISTS incidents (
            rowid INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            token TEXT NOT NULL UNIQUE,
            client TEXT NOT NULL,
            idempotency_key TEXT,
            fingerprint TEXT NOT NULL,
            external_id TEXT,
            status TEXT NOT NULL,
            category TEXT NOT NULL,
            grid TEXT,
            created_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL,
            body BLOB NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS incidents_idempotency ON incidents (client, idempotency_key) WHERE idempotency_key IS NOT NULL;
        CREATE UNIQUE INDEX IF NOT EXISTS incidents_external ON incidents (client, external_id) WHERE external_id IS NOT NULL;
        CREATE INDEX IF NOT EXISTS incidents_grid ON incidents (grid, rowid);
        CREATE INDEX IF NOT EXISTS incidents_category ON incidents (category, rowid);
        CREATE INDEX IF NOT EXISTS incidents_status ON incidents (status, rowid);
        CREATE INDEX IF NOT EXISTS incidents_created ON incidents (created_ms);
        CREATE TABLE IF NOT EXISTS lifecycle_seen (event_id TEXT PRIMARY KEY);
        """

    /// GridJSON's format, without Foundation's cost: every lifecycle event rewrites an incident.
    static let encoder = JSONTreeEncoder()
    static let decoder = JSONTreeDecoder()

    /// An incident already filed by this client under this idempotency key or external id.
    /// - Returns: the incident, its request's fingerprint, and the field that matched (`Idempotency-Key` or `externalId`).
    static func existing(
        client: String,
        idempotencyKey: String?,
        externalID: String?,
        on connection: any StoreConnection
    ) throws -> (incident: Incident, json: Data, fingerprint: String, field: String)? {
        for (column, field, value) in [("idempotency_key", "Idempotency-Key", idempotencyKey), ("external_id", "externalId", externalID)] {
            guard let value else { continue }
            let statement = try connection.prepare("SELECT body, fingerprint FROM incidents WHERE client = ? AND \(column) = ?")
            statement.bind(client, at: 1)
            statement.bind(value, at: 2)
            if try statement.step() {
                let json = Data(statement.blob(0))
                return (try decoder.decode(Incident.self, from: json), json, statement.text(1) ?? "", field)
            }
        }
        return nil
    }

    /// Returns the incident's JSON as stored (the API answers with the same bytes).
    @discardableResult
    static func insert(_ incident: Incident, idempotencyKey: String?, fingerprint: String, on connection: any StoreConnection) throws -> Data {
        let json = Data(try encoder.encode(incident))
        let statement = try connection.prepare(
            """
            INSERT INTO incidents (id, token, client, idempotency_key, fingerprint, external_id, status, category, grid, created_ms, updated_ms, body)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        )
        statement.bind(incident.id, at: 1)
        statement.bind(incident.token, at: 2)
        statement.bind(incident.client, at: 3)
        statement.bind(idempotencyKey, at: 4)
        statement.bind(fingerprint, at: 5)
        statement.bind(incident.externalId, at: 6)
        statement.bind(incident.status.rawValue, at: 7)
        statement.bind(incident.category, at: 8)
        statement.bind(incident.grid, at: 9)
        statement.bind(incident.createdAt.millisecondsSince1970, at: 10)
        statement.bind(incident.updatedAt.millisecondsSince1970, at: 11)
        statement.bind(Array(json), at: 12)
        try statement.run()
        return json
    }

    /// Writes the incident back; its grid column only when `gridChanged`: most lifecycle events
    /// leave the grid as it was, and an UPDATE that sets an indexed column makes SQLite maintain
    /// that index (`incidents_grid`) whether or not the value changed.
    static func update(_ incident: Incident, gridChanged: Bool, on connection: any StoreConnection) throws {
        let statement = try connection.prepare(
            gridChanged
                ? "UPDATE incidents SET status = ?, updated_ms = ?, body = ?, grid = ? WHERE id = ?"
                : "UPDATE incidents SET status = ?, updated_ms = ?, body = ? WHERE id = ?"
        )
        statement.bind(incident.status.rawValue, at: 1)
        statement.bind(incident.updatedAt.millisecondsSince1970, at: 2)
        statement.bind(try encoder.encode(incident), at: 3)
        if gridChanged { statement.bind(incident.grid, at: 4) }
        statement.bind(incident.id, at: gridChanged ? 5 : 4)
        try statement.run()
    }

    /// The largest incident id (ids sort as issued: ``IncidentID``); from the id's index, not a scan.
    static func largestID(on connection: any StoreConnection) throws -> String? {
        let statement = try connection.prepare("SELECT max(id) FROM incidents")
        return try statement.step() ? statement.text(0) : nil
    }

    static func incident(id: String, on connection: any StoreConnection) throws -> Incident? {
        let statement = try connection.prepare("SELECT body FROM incidents WHERE id = ?")
        statement.bind(id, at: 1)
        return try statement.step() ? try decoder.decode(Incident.self, from: statement.blob(0)) : nil
    }

    static func incident(token: String, on connection: any StoreConnection) throws -> Incident? {
        let statement = try connection.prepare("SELECT body FROM incidents WHERE token = ?")
        statement.bind(token, at: 1)
        return try statement.step() ? try decoder.decode(Incident.self, from: statement.blob(0)) : nil
    }

    struct Query: Sendable {
        var ids: [String] = []
        var grids: [String] = []
        var categories: [String] = []
        var statuses: [IncidentStatus] = []
        var since: Date?
        var until: Date?
        /// Newest first, strictly older than this row (the paging cursor).
        var before: Int64?
        var limit = 50
    }

    /// Incidents matching `query`, newest first, with the cursor of the next page.
    static func list(_ query: Query, on connection: any StoreConnection) throws -> (incidents: [Incident], next: Int64?) {
        var conditions: [String] = []
        var values: [(any StoreStatement, Int32) -> Void] = []
        func any(_ column: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            conditions.append("\(column) IN (\(items.map { _ in "?" }.joined(separator: ", ")))")
            for item in items { values.append { $0.bind(item, at: $1) } }
        }
        any("id", query.ids)
        any("grid", query.grids)
        any("category", query.categories)
        any("status", query.statuses.map(\.rawValue))
        if let since = query.since {
            conditions.append("created_ms >= ?")
            values.append { $0.bind(since.millisecondsSince1970, at: $1) }
        }
        if let until = query.until {
            conditions.append("created_ms <= ?")
            values.append { $0.bind(until.millisecondsSince1970, at: $1) }
        }
        if let before = query.before {
            conditions.append("rowid < ?")
            values.append { $0.bind(before, at: $1) }
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let statement = try connection.prepare("SELECT rowid, body FROM incidents \(filter) ORDER BY rowid DESC LIMIT ?")
        for (index, bind) in values.enumerated() { bind(statement, Int32(index + 1)) }
        statement.bind(query.limit + 1, at: Int32(values.count + 1))
        var rows: [(Int64, Incident)] = []
        while try statement.step() { rows.append((statement.int64(0), try decoder.decode(Incident.self, from: statement.blob(1)))) }
        let page = Array(rows.prefix(query.limit))
        return (page.map(\.1), rows.count > query.limit ? page.last?.0 : nil)
    }

    /// Records a lifecycle event once; false when it was seen before (redelivery).
    static func firstSight(of eventID: String, on connection: any StoreConnection) throws -> Bool {
        let statement = try connection.prepare("INSERT INTO lifecycle_seen (event_id) VALUES (?) ON CONFLICT DO NOTHING")
        statement.bind(eventID, at: 1)
        try statement.run()
        return connection.changes == 1
    }

    static func count(status: IncidentStatus, on connection: any StoreConnection) throws -> Int {
        let statement = try connection.prepare("SELECT COUNT(*) FROM incidents WHERE status = ?")
        statement.bind(status.rawValue, at: 1)
        return try statement.step() ? Int(statement.int64(0)) : 0
    }

}
