/// A store's schema as its history: named migrations, applied once each, in the order they were
/// registered, and recorded in the store (`gridbus_migrations`), as GRDB's `DatabaseMigrator` does.
///
/// A migration is never edited once released: a change to the schema is a new migration at the end
/// of the list. Each one runs in its own transaction together with its record, so a crash leaves it
/// applied and recorded, or neither. Several lists may share one file (a worker's runtime tables and
/// its own): identifiers are unique across the file, so each list names its migrations with its
/// store's name first (`intake 1 incidents`).
///
/// A store that records a migration this build does not know was written by a newer build: opening
/// it is refused (``MigrationError/unknownMigrations(_:)``) rather than risking a schema this code
/// cannot read.
public struct Migrations: Sendable {
    public struct Migration: Sendable {
        public let identifier: String
        /// False for a migration that commits in steps of its own (see ``register(_:ownTransactions:_:)``).
        let inTransaction: Bool
        let apply: @Sendable (SQLiteConnection) throws -> Void
        /// The same change for a store on PostgreSQL, one statement each (nil: this list is for
        /// SQLite only, as the journal's chunk files are). The schema differs where the engines'
        /// types do; the tables, columns, keys and indexes are the same.
        public let postgresql: [String]?
    }

    public private(set) var list: [Migration] = []

    public init() {}

    /// Adds a migration made of SQL statements, and its form for PostgreSQL, if the store may live there.
    public mutating func register(_ identifier: String, sql: String, postgresql: [String]? = nil) {
        register(identifier, postgresql: postgresql) { try $0.execute(sql) }
    }

    /// Adds a migration that runs code (moving rows, filling a new column from the old ones).
    /// - Parameter postgresql: the migration's statements for a store on PostgreSQL, which never
    ///   held the shapes from before migrations that the code may have to adopt.
    /// - Parameter ownTransactions: the migration commits in steps of its own (a move of millions of
    ///   rows that must not hold one transaction, nor the WAL of all of it); it must then be safe to
    ///   run again from the start after a crash part way, and it is recorded once it returns.
    public mutating func register(
        _ identifier: String,
        ownTransactions: Bool = false,
        postgresql: [String]? = nil,
        _ apply: @escaping @Sendable (SQLiteConnection) throws -> Void
    ) {
        add(Migration(identifier: identifier, inTransaction: !ownTransactions, apply: apply, postgresql: postgresql))
    }

    private mutating func add(_ migration: Migration) {
        precondition(!list.contains { $0.identifier == migration.identifier }, "migration '\(migration.identifier)' is registered twice")
        list.append(migration)
    }

    /// This list, then `other`'s.
    public static func + (lhs: Migrations, rhs: Migrations) -> Migrations {
        var both = lhs
        for migration in rhs.list { both.add(migration) }
        return both
    }

    static let recordTable = "gridbus_migrations"

    /// Applies the migrations not yet recorded, in order.
    /// - Returns: the identifiers applied now (empty when the store was up to date).
    /// - Throws: ``MigrationError`` for a store written by a newer build, or the failing migration's error.
    @discardableResult
    public func migrate(_ connection: SQLiteConnection) throws -> [String] {
        try connection.execute(
            "CREATE TABLE IF NOT EXISTS \(Self.recordTable) (identifier TEXT PRIMARY KEY, applied_ms INTEGER NOT NULL)"
        )
        let applied = try Self.applied(connection)
        let known = Set(list.map(\.identifier))
        let unknown = applied.filter { !known.contains($0) }
        guard unknown.isEmpty else { throw MigrationError.unknownMigrations(unknown) }
        var done: [String] = []
        // Stamped by SQLite's clock, in milliseconds since 1970.
        let record = try connection.prepare(
            "INSERT INTO \(Self.recordTable) (identifier, applied_ms) VALUES (?, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))"
        )
        for migration in list where !applied.contains(migration.identifier) {
            do {
                func apply() throws {
                    try migration.apply(connection)
                    record.bind(migration.identifier, at: 1)
                    try record.run()
                }
                if migration.inTransaction { try connection.transaction(apply) } else { try apply() }
            } catch {
                throw MigrationError.failed(migration.identifier, "\(error)")
            }
            done.append(migration.identifier)
        }
        return done
    }

    /// The identifiers recorded in the store, in the order they were applied.
    public static func applied(_ connection: SQLiteConnection) throws -> [String] {
        guard try connection.scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '\(recordTable)'") > 0 else { return [] }
        let statement = try connection.prepare("SELECT identifier FROM \(recordTable) ORDER BY rowid")
        var identifiers: [String] = []
        while try statement.step() { identifiers.append(statement.text(0) ?? "") }
        return identifiers
    }
}

/// Why a store could not be brought to this build's schema.
public enum MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The store records migrations this build does not have: a newer build wrote it.
    case unknownMigrations([String])
    /// A migration failed (rolled back, unless it commits in steps of its own); it runs again at the next start.
    case failed(String, String)

    public var description: String {
        switch self {
        case .unknownMigrations(let identifiers):
            "the store was migrated by a newer GridBus (unknown migrations: \(identifiers.map { "'\($0)'" }.joined(separator: ", "))); "
                + "run that version, or restore a backup made before it"
        case .failed(let identifier, let reason): "migration '\(identifier)' failed (it runs again at the next start): \(reason)"
        }
    }
}
