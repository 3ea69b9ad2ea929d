/// A connection to a worker's store, whichever engine holds it: SQLite (the embedded default, one
/// file per worker) or PostgreSQL (a schema per worker, shared by a worker and its standby).
///
/// The workers write their SQL once, in what both engines read alike: `?` parameters, `INSERT …
/// ON CONFLICT`, `RETURNING`, savepoints. Where the engines differ (the schema's column types, a
/// query planner's hint), ``engine`` says which one runs it.
///
/// Not `Sendable`: a connection belongs to the thread that uses it (the store's own).
public protocol StoreConnection: AnyObject {
    associatedtype Statement: StoreStatement
    var engine: StoreEngine { get }
    /// Runs a statement that returns no rows (SQLite also takes several, separated by `;`).
    func execute(_ sql: String) throws
    /// A statement to bind, run and read; reused across executions.
    func prepare(_ sql: String) throws -> Statement
    /// Runs `body` in one transaction, committing if it returns and rolling back if it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T
    /// Runs `body` in a savepoint inside the current transaction: if `body` throws, only its
    /// changes are rolled back and its error is returned, and the transaction goes on (a batch in
    /// which one item cannot be applied). Throws only when the savepoint itself fails, or when the
    /// transaction can no longer commit at all.
    func savepoint<T>(_ name: String, _ body: () throws -> T) throws -> Result<T, any Error>
    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { get }
    /// The first column of the first row of `sql`, as an integer (0 when there is no row or it is NULL).
    func scalar(_ sql: String) throws -> Int64
}

extension StoreConnection {
    /// A savepoint as SQL writes it (what SQLite runs; PostgreSQL's connection reads its answers at the end).
    public func savepoint<T>(_ name: String, _ body: () throws -> T) throws -> Result<T, any Error> {
        try execute("SAVEPOINT \(name)")
        do {
            let value = try body()
            try execute("RELEASE \(name)")
            return .success(value)
        } catch {
            try execute("ROLLBACK TO \(name)")
            try execute("RELEASE \(name)")
            return .failure(error)
        }
    }
}

public enum StoreEngine: String, Sendable, CaseIterable {
    case sqlite
    case postgresql
}

/// A statement of a ``StoreConnection``: parameters bound by position (1-based, as in SQL), rows
/// stepped through, columns read by position (0-based).
public protocol StoreStatement: AnyObject {
    func bind(_ value: Int64, at index: Int32)
    func bind(_ value: Int, at index: Int32)
    func bind(_ value: Double, at index: Int32)
    func bind(_ value: String, at index: Int32)
    func bind(_ value: String?, at index: Int32)
    func bind(_ value: [UInt8], at index: Int32)
    func bindNull(at index: Int32)

    /// Advances to the next row: `true` when a row is available, `false` when done.
    @discardableResult
    func step() throws -> Bool
    /// Resets for the next execution and clears bindings.
    func reset()
    /// Runs to completion and resets (keeping the bindings): for INSERT, UPDATE and DELETE.
    func run() throws

    var columnCount: Int32 { get }
    func isNull(_ column: Int32) -> Bool
    func int64(_ column: Int32) -> Int64
    func double(_ column: Int32) -> Double
    func text(_ column: Int32) -> String?
    func blob(_ column: Int32) -> [UInt8]
    /// The column's bytes, valid only inside `body`.
    func withBlob<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T
}

extension SQLiteConnection: StoreConnection {
    public var engine: StoreEngine { .sqlite }
}

extension SQLiteStatement: StoreStatement {}

/// An error that may say the store could not be reached, rather than that what was asked of it
/// was wrong: then the same call succeeds once the store is back, and must be tried again rather
/// than given up on (a subscriber skipping the event, a publisher stopping). SQLite, a file beside
/// the worker, has no such errors; a PostgreSQL server may be restarting or failing over.
public protocol StoreReachability: Error {
    var storeIsUnreachable: Bool { get }
}

/// Whether `error` says the store could not be reached (``StoreReachability``).
public func storeIsUnreachable(_ error: any Error) -> Bool { (error as? any StoreReachability)?.storeIsUnreachable ?? false }
