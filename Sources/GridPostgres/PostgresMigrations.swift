import GridStore
import PostgresNIO

/// Named schema changes for a PostgreSQL store, applied once each, in order, and recorded, as
/// GridStore's `Migrations` does for SQLite (and GRDB's `DatabaseMigrator` before both).
///
/// Several processes may start at once against one database (the nodes of a bus, a worker and its
/// standby): each migration runs in a transaction holding an advisory lock on the schema's name,
/// so one applies it and the others find it recorded.
public struct PostgresMigrations: Sendable {
    public let schema: String
    private var steps: [(name: String, statements: [String])] = []

    /// - Parameter schema: the PostgreSQL schema the store's tables live in; the record is kept there too.
    public init(schema: String) {
        self.schema = schema
    }

    /// Adds a migration: its statements, one each (postgres-nio's extended protocol takes one
    /// statement at a time). Never edit a released migration: add another.
    public mutating func register(_ name: String, statements: [String]) {
        precondition(!steps.contains { $0.name == name }, "migration \(name) registered twice")
        steps.append((name, statements))
    }

    /// Applies the migrations not yet recorded.
    /// - Returns: the names applied now.
    /// - Throws: ``MigrationError/unknownMigrations(_:)`` for a schema a newer build migrated.
    @discardableResult
    public func migrate(_ link: PostgresLink) throws -> [String] {
        // The lock's key is the schema's name hashed by PostgreSQL, the same in every process.
        let lock = PostgresQuery(unsafeSQL: "SELECT pg_advisory_xact_lock(hashtext('gridbus migrations ' || $1))", binds: binds(schema))
        var applied: [String] = []
        try link.transaction {
            try link.query(lock)
            try link.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"))
            try link.query(
                PostgresQuery(
                    unsafeSQL:
                        "CREATE TABLE IF NOT EXISTS \(schema).migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
                )
            )
        }
        // A schema that records a migration this build does not know was written by a newer build.
        let recorded = try link.query(PostgresQuery(unsafeSQL: "SELECT name FROM \(schema).migrations ORDER BY applied_at, name"))
        let known = Set(steps.map(\.name))
        let unknown = try recorded.rows.map { try $0.decode(String.self) }.filter { !known.contains($0) }
        guard unknown.isEmpty else { throw MigrationError.unknownMigrations(unknown) }
        for step in steps {
            try link.transaction {
                try link.query(lock)
                let recorded = try link.query(PostgresQuery(unsafeSQL: "SELECT 1 FROM \(schema).migrations WHERE name = $1", binds: binds(step.name)))
                guard recorded.rows.isEmpty else { return }
                // The migration's tables go into the schema, whatever the link's own path.
                try link.query(PostgresQuery(unsafeSQL: "SET LOCAL search_path TO \(StoreSQL.identifier(schema))"))
                for statement in step.statements { try link.query(PostgresQuery(unsafeSQL: statement)) }
                try link.query(PostgresQuery(unsafeSQL: "INSERT INTO \(schema).migrations (name) VALUES ($1)", binds: binds(step.name)))
                applied.append(step.name)
            }
        }
        return applied
    }

    private func binds(_ text: String) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(text)
        return bindings
    }
}

extension PostgresMigrations {
    /// A worker store's migrations (GridStore's ``Migrations``, written for both engines) in its
    /// PostgreSQL schema.
    /// - Throws: ``MigrationError/failed(_:_:)`` for a migration that has no PostgreSQL form.
    public init(schema: String, store migrations: Migrations) throws {
        self.init(schema: schema)
        for migration in migrations.list {
            guard let statements = migration.postgresql else {
                throw MigrationError.failed(migration.identifier, "it has no PostgreSQL form: this store can only be kept in SQLite")
            }
            register(migration.identifier, statements: statements)
        }
    }
}
