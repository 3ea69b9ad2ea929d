import CSQLite

/// One SQLite connection. Not `Sendable`: a connection belongs to the thread that opened it
/// (GridBus opens one per thread; WAL lets readers run beside the writer).
public final class SQLiteConnection {
    let handle: OpaquePointer

    /// Opens (and creates) the database at `path`.
    /// - Parameters:
    ///   - readOnly: open for reading only (replay and status readers).
    ///   - busyTimeoutMilliseconds: how long a call waits for another connection's lock.
    public init(path: String, readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 5000) throws(SQLiteError) {
        var handle: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let result = sqlite3_open_v2(path, &handle, flags, nil)
        guard result == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let handle { sqlite3_close_v2(handle) }
            throw SQLiteError(code: result, message: message, operation: "open \(path)")
        }
        self.handle = handle
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
    }

    deinit {
        for handles in idleStatements.values { for statement in handles { sqlite3_finalize(statement) } }
        sqlite3_close_v2(handle)
    }

    /// Compiled statements whose ``SQLiteStatement`` was released, by their SQL: preparing the same
    /// SQL again takes one of them instead of parsing it again (the workers prepare their
    /// statements where they use them, for every event). Bounded, in case SQL carries values.
    private var idleStatements: [String: [OpaquePointer]] = [:]
    private static let maximumIdleSQL = 256
    private static let maximumIdlePerSQL = 4

    func recycle(_ statement: OpaquePointer, sql: String) {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        if let idle = idleStatements[sql] {
            guard idle.count < Self.maximumIdlePerSQL else {
                sqlite3_finalize(statement)
                return
            }
            idleStatements[sql]!.append(statement)
        } else {
            guard idleStatements.count < Self.maximumIdleSQL else {
                sqlite3_finalize(statement)
                return
            }
            idleStatements[sql] = [statement]
        }
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws(SQLiteError) {
        if !sql.utf8.contains(UInt8(ascii: ";")) {  // one statement (BEGIN, SAVEPOINT, COMMIT …): compiled once
            do { try prepare(sql).run() } catch {
                throw SQLiteError(code: error.code, message: error.message, operation: "execute \(sql.prefix(60))")
            }
            return
        }
        var errorMessage: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        guard result == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errorMessage)
            throw SQLiteError(code: result, message: message, operation: "execute \(sql.prefix(60))")
        }
    }

    /// Compiles the first statement of `sql` (or takes an idle one compiled before).
    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let statement = idleStatements[sql]?.popLast() {
            if idleStatements[sql]!.isEmpty { idleStatements[sql] = nil }
            return SQLiteStatement(handle: statement, sql: sql, connection: self)
        }
        var statement: OpaquePointer?
        let result = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard result == SQLITE_OK, let statement else { throw error(result, "prepare \(sql.prefix(60))") }
        return SQLiteStatement(handle: statement, sql: sql, connection: self)
    }

    /// Runs `body` in one transaction (`BEGIN IMMEDIATE`), committing if it returns and rolling back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// The first column of the first row of `sql`, as an integer (0 when there is no row or it is NULL).
    public func scalar(_ sql: String) throws(SQLiteError) -> Int64 {
        let statement = try prepare(sql)
        guard try statement.step() else { return 0 }
        return statement.int64(0)
    }

    func error(_ code: Int32, _ operation: String) -> SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), operation: operation)
    }
}

/// A prepared statement, reused across executions (bind, step, reset).
public final class SQLiteStatement {
    let handle: OpaquePointer
    let sql: String
    let connection: SQLiteConnection

    init(handle: OpaquePointer, sql: String, connection: SQLiteConnection) {
        self.handle = handle
        self.sql = sql
        self.connection = connection
    }

    /// Reset and kept by the connection for the next `prepare` of the same SQL.
    deinit { connection.recycle(handle, sql: sql) }

    // MARK: Binding (1-based, as in SQL)

    public func bind(_ value: Int64, at index: Int32) { sqlite3_bind_int64(handle, index, value) }
    public func bind(_ value: Int, at index: Int32) { sqlite3_bind_int64(handle, index, Int64(value)) }
    public func bind(_ value: Double, at index: Int32) { sqlite3_bind_double(handle, index, value) }
    /// All of the string's UTF-8, a NUL inside included (a C string would end there).
    public func bind(_ value: String, at index: Int32) {
        var value = value
        value.withUTF8 { bytes in
            if let base = bytes.baseAddress {
                _ = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { text in
                    sqlite3_bind_text(handle, index, text, Int32(bytes.count), gridbus_sqlite_transient())
                }
            } else {
                _ = sqlite3_bind_text(handle, index, "", 0, gridbus_sqlite_transient())  // empty, not NULL
            }
        }
    }
    public func bind(_ value: [UInt8], at index: Int32) {
        value.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob(
                handle,
                index,
                buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1),
                Int32(buffer.count),
                gridbus_sqlite_transient()
            )
        }
    }
    public func bindNull(at index: Int32) { sqlite3_bind_null(handle, index) }
    public func bind(_ value: String?, at index: Int32) { if let value { bind(value, at: index) } else { bindNull(at: index) } }

    // MARK: Running

    /// Advances to the next row: `true` when a row is available, `false` when done.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        let result = sqlite3_step(handle)
        switch result {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(result, "step \(String(cString: sqlite3_sql(handle)).prefix(60))")
        }
    }

    /// Resets for the next execution and clears bindings.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds nothing more, runs to completion and resets: for INSERT/UPDATE/DELETE.
    public func run() throws(SQLiteError) {
        defer { sqlite3_reset(handle) }
        while try step() {}
    }

    // MARK: Columns (0-based)

    public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    public func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    public var columnCount: Int32 { sqlite3_column_count(handle) }
    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    public func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(handle, column))), as: UTF8.self)
    }
    public func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let pointer = sqlite3_column_blob(handle, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: pointer, count: count))
    }
    /// The column's bytes without copying them; valid only inside `body` (until the next step or reset).
    public func withBlob<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        // SQLite's order: the pointer first, then its length.
        guard let pointer = sqlite3_column_blob(handle, column) else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeRawBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(handle, column))))
    }
}
