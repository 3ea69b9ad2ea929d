import GridPostgres
import GridSchema
import GridStore
import Logging
import Synchronization

/// A worker's own store (SQLite, or a schema in PostgreSQL): the publisher's outbox, subscriber cursors, rejected events, and
/// the worker's own tables, each created and changed by named migrations (``Migrations``).
///
/// There is one way in for writes, ``write(durable:_:)``, and one for reads, ``read(_:)``. A
/// write is committed with the other writes that arrive meanwhile (group commit: a burst of
/// requests costs one fsync, not one each); events it hands to the outbox are delivered by the
/// worker's ``ReliablePublisher``, which the commit wakes.
///
/// An actor, so that one connection is used by one task at a time. SQLite calls here are short
/// (WAL, `synchronous = NORMAL` by default: a worker's commits survive a crash of the worker, and
/// with `durable: true` (`FULL`) also a power loss). On PostgreSQL every commit waits for the
/// server's WAL flush (`synchronous_commit`), except those a write says may wait (below).
///
/// A durable store, and a store on PostgreSQL, still syncs only the commits that need it: a write
/// may say that what it writes is derived from bus events the worker would hear again (`durable:
/// false`), and outbox clean-up is never synced (nor, on SQLite, cursor saves). Such a commit
/// reaches the disk with the next synced one; the WAL keeps commits in order, so a power loss
/// takes back only the last ones, never a later one without an earlier (the cursor goes back with
/// them, and the events are heard again). Events handed to the outbox are always synced before
/// the publisher can send them.
///
/// The actor runs on a thread of its own (``ThreadExecutor``): its statements and fsyncs block
/// that thread, never one of the concurrency pool's.
public actor WorkerStore {
    private let executor = ThreadExecutor(name: "worker-store")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    /// The store's thread, for the tasks that mostly call the store (the publisher's and the
    /// subscriber's loops, the group commit): run there, their calls need no hand-off.
    public nonisolated var taskExecutor: (any TaskExecutor)? { executor }
    /// The engine's own connection, for what the engines do differently (syncing, read-only reads).
    private enum Backend {
        case sqlite(SQLiteConnection)
        case postgresql(PostgresStoreConnection)
    }
    private let backend: Backend
    private let connection: any StoreConnection
    /// Which engine holds the store.
    public nonisolated let engine: StoreEngine
    private let insertOutbox: any StoreStatement
    private let insertOutboxReturning: any StoreStatement
    private let deleteOutbox: any StoreStatement
    private let selectOutbox: any StoreStatement
    private let durable: Bool
    /// The connection's `synchronous` setting now (`FULL` when true).
    private var syncing: Bool
    private let checkpointer: BackgroundCheckpointer?
    private let committer = GroupCommitter()
    /// Told after every commit that handed events to the outbox (the publisher's wake-up).
    private let outboxObservers = Mutex<[@Sendable () -> Void]>([])

    /// The runtime's own tables, first in every worker's store.
    public static let runtimeMigrations: Migrations = {
        var migrations = Migrations()
        migrations.register(
            "runtime 1 outbox, rejected events, cursors",
            sql: """
                CREATE TABLE IF NOT EXISTS gridbus_outbox (
                    rowid INTEGER PRIMARY KEY AUTOINCREMENT,
                    event_id TEXT NOT NULL,
                    event BLOB NOT NULL,
                    created_ms INTEGER NOT NULL
                );
                CREATE TABLE IF NOT EXISTS gridbus_rejected (
                    rowid INTEGER PRIMARY KEY,
                    event_id TEXT NOT NULL,
                    event BLOB NOT NULL,
                    code TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    rejected_ms INTEGER NOT NULL
                );
                CREATE TABLE IF NOT EXISTS gridbus_cursors (name TEXT PRIMARY KEY, sequence INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS gridbus_sync (id INTEGER PRIMARY KEY, commits INTEGER NOT NULL);
                """,
            // PostgreSQL syncs each commit itself (`synchronous_commit`): no sync table.
            postgresql: [
                "CREATE TABLE gridbus_outbox (rowid bigserial PRIMARY KEY, event_id text NOT NULL, event bytea NOT NULL, created_ms bigint NOT NULL)",
                """
                CREATE TABLE gridbus_rejected (
                    rowid bigint PRIMARY KEY, event_id text NOT NULL, event bytea NOT NULL,
                    code text NOT NULL, reason text NOT NULL, rejected_ms bigint NOT NULL
                )
                """,
                "CREATE TABLE gridbus_cursors (name text PRIMARY KEY, sequence bigint NOT NULL)",
            ]
        )
        return migrations
    }()

    /// Opens (or creates) the store at `location` and brings it to this build's schema: the
    /// runtime's migrations, then `migrations`, the worker's own.
    ///
    /// - Parameters:
    ///   - durable: on SQLite, sync commits to the disk (`synchronous = FULL`): an answered request
    ///     survives a power loss. On PostgreSQL every commit is the server's (`synchronous_commit`).
    ///   - checkpointInterval: on SQLite, checkpoint the WAL from a thread of its own this often (a
    ///     live worker: no commit then stalls for a checkpoint); nil leaves it to SQLite's automatic
    ///     checkpoint inside a commit every 16,000 pages (bulk folds, where fewer, larger
    ///     checkpoints write each rewritten page fewer times).
    ///   - fence: on PostgreSQL, what every write transaction checks first (``WorkerLease/fence``).
    public init(
        _ location: StoreLocation,
        durable: Bool = false,
        checkpointInterval: Duration? = nil,
        migrations: Migrations = Migrations(),
        fence: String? = nil,
        logger: Logger = Logger(label: "gridbus.store")
    ) throws {
        self.durable = durable
        let all = Self.runtimeMigrations + migrations
        switch location {
        case .sqlite(let path):
            let connection = try SQLiteConnection(path: path)
            syncing = durable
            try connection.execute("PRAGMA journal_mode = WAL")
            try connection.execute("PRAGMA synchronous = \(durable ? "FULL" : "NORMAL")")
            // A worker rewrites the same pages (its open cases, its roll-ups) batch after batch: with
            // SQLite's 2 MiB default cache it read them back from the OS for every batch, and with a
            // checkpoint every 1,000 pages it wrote them to the database file many times over.
            try connection.execute("PRAGMA cache_size = -32768")
            try connection.execute("PRAGMA wal_autocheckpoint = \(WALCheckpointing.backstopPages)")
            // Workers wrap each event in a savepoint. SQLite keeps the pages a savepoint may have to
            // restore in a temporary file once they pass 64 KiB (16 pages, a batch of a few events):
            // a file created per transaction and two writes per page. In memory they cost a copy,
            // bounded by one transaction's pages.
            try connection.execute("PRAGMA temp_store = MEMORY")
            try all.migrate(connection)
            backend = .sqlite(connection)
            self.connection = connection
        case .postgresql(let url, let password, let schema):
            let link = PostgresLink(url: url, password: password, logger: logger)
            link.answerTimeout = 30
            try PostgresMigrations(schema: schema, store: all).migrate(link)
            link.close()
            // A server cut off by the network answers nothing; a worker's writes wait this long at most.
            let connection = PostgresStoreConnection(url: url, password: password, schema: schema, answerTimeout: 30)
            connection.fence = fence
            syncing = true
            backend = .postgresql(connection)
            self.connection = connection
        }
        insertOutbox = try connection.prepare("INSERT INTO gridbus_outbox (event_id, event, created_ms) VALUES (?, ?, ?)")
        insertOutboxReturning = try connection.prepare("INSERT INTO gridbus_outbox (event_id, event, created_ms) VALUES (?, ?, ?) RETURNING rowid")
        deleteOutbox = try connection.prepare("DELETE FROM gridbus_outbox WHERE rowid = ?")
        selectOutbox = try connection.prepare("SELECT rowid, event FROM gridbus_outbox WHERE rowid > ? ORDER BY rowid LIMIT ?")
        engine = connection.engine
        // Last: nothing after it can fail and leave the thread running.
        if case .sqlite(let path) = location, let checkpointInterval {
            checkpointer = BackgroundCheckpointer(path: path, interval: checkpointInterval, name: "store-checkpoint")
        } else {
            checkpointer = nil
        }
    }

    /// A store in the SQLite file at `path`.
    public init(path: String, durable: Bool = false, checkpointInterval: Duration? = nil, migrations: Migrations = Migrations()) throws {
        try self.init(.sqlite(path: path), durable: durable, checkpointInterval: checkpointInterval, migrations: migrations)
    }

    deinit {
        checkpointer?.stop()
        executor.shutdown()
    }

    // MARK: Writing and reading

    /// Commits the worker's own changes and the events they publish in one store transaction (the
    /// transactional outbox), shared with the writes that arrive meanwhile (group commit); returns
    /// once the changes are committed. `body` runs in a savepoint of its own: if it throws, only its
    /// changes are taken back and only this call fails.
    ///
    /// - Parameter durable: false when the changes are derived from bus events the worker would
    ///   hear again: in a durable store, and on PostgreSQL, the commit is then synced only if it
    ///   hands events to the outbox or asks for it (``OutboxWriter/syncOnCommit()``).
    public nonisolated func write<T: Sendable>(
        durable: Bool = true,
        _ body: @escaping @Sendable (any StoreConnection, OutboxWriter) throws -> T
    ) async throws -> T {
        try await committer.commit(on: self, durable: durable, body)
    }

    /// Runs `body` with the connection, for reading (one caller at a time, between the writes).
    /// The connection is read-only meanwhile (SQLite's `query_only`, PostgreSQL's read-only
    /// transaction): a change made here would bypass the group commit and its syncing, so the
    /// engine refuses it.
    public func read<T: Sendable>(_ body: @Sendable (any StoreConnection) throws -> T) throws -> T {
        switch backend {
        case .sqlite(let connection):
            try connection.execute("PRAGMA query_only = 1")
            defer { try? connection.execute("PRAGMA query_only = 0") }
            return try body(connection)
        case .postgresql(let connection):
            return try connection.readOnlyTransaction { try body(connection) }
        }
    }

    /// Calls `observer` after every commit that handed events to the outbox.
    public nonisolated func observeOutbox(_ observer: @escaping @Sendable () -> Void) {
        outboxObservers.withLock { $0.append(observer) }
    }

    private nonisolated func outboxChanged() {
        for observer in outboxObservers.withLock({ $0 }) { observer() }
    }

    /// One transaction of the group commit: `body` runs inside it with an outbox writer.
    func transaction<T: Sendable>(
        nowMilliseconds: Int64,
        durable: Bool,
        _ body: @Sendable (any StoreConnection, OutboxWriter) throws -> T
    ) throws -> T {
        try synchronous(self.durable && durable)
        let outbox = OutboxWriter(statement: insertOutbox, nowMilliseconds: nowMilliseconds)
        let result = try connection.transaction {
            let value = try body(connection, outbox)
            if !durable, outbox.count.value == 0, !outbox.count.syncRequested { try commitWithoutWaitingForTheDisk() }
            return value
        }
        if self.durable, !durable, outbox.count.value > 0 || outbox.count.syncRequested { try sync() }
        if outbox.count.value > 0 { outboxChanged() }
        return result
    }

    /// On PostgreSQL, lets the open transaction's commit return before its WAL is on disk (and on a
    /// synchronous standby): for what the worker would hear again, as SQLite's `NORMAL` commits are.
    /// WAL is written in order, so a crash takes back only the last such commits, never one
    /// without those before it, and the next synced commit (a cursor save, an outbox event) makes
    /// all of them durable. Sent with the transaction's other statements: no round trip of its own.
    private func commitWithoutWaitingForTheDisk() throws {
        guard case .postgresql = backend else { return }
        try connection.execute("SET LOCAL synchronous_commit TO off")
    }

    /// Sets `synchronous` for the commits that follow (SQLite refuses to change it inside a
    /// transaction). PostgreSQL's commits are synced as the server is configured.
    private func synchronous(_ full: Bool) throws {
        guard full != syncing, case .sqlite = backend else { return }
        try connection.execute("PRAGMA synchronous = \(full ? "FULL" : "NORMAL")")
        syncing = full
    }

    /// Syncs every commit so far: a synced commit writes the WAL to disk up to its own frames, and
    /// a commit that changes nothing writes no frame, so this one changes a counter.
    private func sync() throws {
        guard case .sqlite = backend else { return }
        try synchronous(true)
        try connection.transaction {
            try connection.execute("INSERT INTO gridbus_sync (id, commits) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET commits = commits + 1")
        }
    }

    // MARK: Outbox

    /// Stores events for delivery, all or none. Returns their outbox row ids, in order.
    public func enqueue(_ events: [(id: String, bytes: [UInt8])], nowMilliseconds: Int64) throws -> [Int64] {
        try synchronous(durable)
        let rowIDs = try connection.transaction {
            var rowIDs: [Int64] = []
            for event in events {
                defer { insertOutboxReturning.reset() }
                insertOutboxReturning.bind(event.id, at: 1)
                insertOutboxReturning.bind(event.bytes, at: 2)
                insertOutboxReturning.bind(nowMilliseconds, at: 3)
                guard try insertOutboxReturning.step() else { throw OutboxError.noRowID }
                rowIDs.append(insertOutboxReturning.int64(0))
            }
            return rowIDs
        }
        if !rowIDs.isEmpty { outboxChanged() }
        return rowIDs
    }

    /// Outbox rows after `rowID`, oldest first.
    public func pending(after rowID: Int64, limit: Int) throws -> [(rowID: Int64, bytes: [UInt8])] {
        defer { selectOutbox.reset() }
        selectOutbox.bind(rowID, at: 1)
        selectOutbox.bind(limit, at: 2)
        var rows: [(Int64, [UInt8])] = []
        while try selectOutbox.step() { rows.append((selectOutbox.int64(0), selectOutbox.blob(1))) }
        return rows
    }

    /// Removes delivered events (not synced: an event that comes back after a power loss is sent
    /// again, and the bus answers with its first sequence).
    public func delivered(_ rowIDs: [Int64]) throws {
        guard !rowIDs.isEmpty else { return }
        try synchronous(false)
        try connection.transaction {
            try commitWithoutWaitingForTheDisk()
            for rowID in rowIDs {
                deleteOutbox.bind(rowID, at: 1)
                try deleteOutbox.run()
            }
        }
    }

    /// Moves an event the bus refused for good out of the outbox, keeping it for an operator.
    public func rejected(_ rowID: Int64, code: String, reason: String, nowMilliseconds: Int64) throws {
        try synchronous(durable)
        try connection.transaction {
            // Replaces an earlier move of the same row (a move whose outbox delete was taken back).
            let earlier = try connection.prepare("DELETE FROM gridbus_rejected WHERE rowid = ?")
            earlier.bind(rowID, at: 1)
            try earlier.run()
            let move = try connection.prepare(
                """
                INSERT INTO gridbus_rejected (rowid, event_id, event, code, reason, rejected_ms)
                SELECT rowid, event_id, event, ?, ?, ? FROM gridbus_outbox WHERE rowid = ?
                """
            )
            move.bind(code, at: 1)
            move.bind(reason, at: 2)
            move.bind(nowMilliseconds, at: 3)
            move.bind(rowID, at: 4)
            try move.run()
            deleteOutbox.bind(rowID, at: 1)
            try deleteOutbox.run()
        }
    }

    public func outboxCount() throws -> Int { Int(try connection.scalar("SELECT COUNT(*) FROM gridbus_outbox")) }
    public func rejectedCount() throws -> Int { Int(try connection.scalar("SELECT COUNT(*) FROM gridbus_rejected")) }

    // MARK: Cursors

    public func cursor(for name: String) throws -> UInt64 {
        let statement = try connection.prepare("SELECT sequence FROM gridbus_cursors WHERE name = ?")
        statement.bind(name, at: 1)
        return try statement.step() ? UInt64(statement.int64(0)) : 0
    }

    /// Not synced: after a power loss the events since an earlier save are heard again.
    public func saveCursor(_ sequence: UInt64, for name: String) throws {
        try synchronous(false)
        let statement = try connection.prepare(
            "INSERT INTO gridbus_cursors (name, sequence) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET sequence = excluded.sequence"
        )
        statement.bind(name, at: 1)
        statement.bind(Int64(sequence), at: 2)
        try statement.run()
    }
}

enum OutboxError: Error, CustomStringConvertible {
    case noRowID
    var description: String { "the outbox gave no row id for an event it stored" }
}

/// Where a subscriber keeps its cursor.
public protocol CursorStore: Sendable {
    func cursor(for name: String) async throws -> UInt64
    func saveCursor(_ sequence: UInt64, for name: String) async throws
    /// Where a subscriber that keeps its cursor here runs its loop (nil: Swift's pool).
    var taskExecutor: (any TaskExecutor)? { get }
}

extension CursorStore {
    public var taskExecutor: (any TaskExecutor)? { nil }
}

extension WorkerStore: CursorStore {}

/// A cursor that lives only as long as the process (`gridctl tail`).
public actor InMemoryCursorStore: CursorStore {
    private var cursors: [String: UInt64]
    public init(_ cursors: [String: UInt64] = [:]) { self.cursors = cursors }
    public func cursor(for name: String) -> UInt64 { cursors[name] ?? 0 }
    public func saveCursor(_ sequence: UInt64, for name: String) { cursors[name] = sequence }
}

/// Adds events to the outbox inside ``WorkerStore/write(durable:_:)``.
public struct OutboxWriter {
    let statement: any StoreStatement
    let nowMilliseconds: Int64
    /// Events enqueued through this writer (a reference: the writer is handed around by value).
    let count = Counter()

    final class Counter {
        var value = 0
        var syncRequested = false
    }

    /// Syncs this commit before the transaction returns, though the caller said its changes may wait
    /// (`durable: false`): the caller is about to act outside the store on what it wrote (send a
    /// message it claimed), and a power loss must not take that back.
    public func syncOnCommit() { count.syncRequested = true }

    /// Checks the event as the bus would (so that a bad event fails the transaction, not the
    /// delivery), then stores it for the publisher.
    public func enqueue(_ event: CloudEvent) throws {
        try event.validate()
        try enqueue(id: event.id, bytes: try event.jsonBytes())
    }

    /// The hot path: an event written in one pass (``TypedEvent``), already checked.
    public func enqueue<Payload: EventPayload>(_ event: TypedEvent<Payload>) throws {
        try enqueue(id: event.id, bytes: try event.jsonBytes())
    }

    private func enqueue(id: String, bytes: [UInt8]) throws {
        statement.bind(id, at: 1)
        statement.bind(bytes, at: 2)
        statement.bind(nowMilliseconds, at: 3)
        try statement.run()
        count.value += 1
    }
}
