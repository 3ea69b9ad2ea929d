import Foundation
import GridStore
import NIOCore
import PostgresNIO

/// A worker's store on PostgreSQL, through the same ``StoreConnection`` the workers use on SQLite:
/// their `?` parameters become `$1, $2, …`, their tables are found in the worker's own schema
/// (`search_path`, set on every new connection), and a statement's rows are read in one answer.
///
/// A transaction never outlives its connection: if the connection is lost inside one, every later
/// statement of it fails (rather than run on a new connection outside the transaction), and the
/// next transaction connects again, to whichever server is primary then.
public final class PostgresStoreConnection: StoreConnection {
    public let link: PostgresLink
    /// The worker's schema: its tables and its migrations' record live there.
    public let schema: String
    public var engine: StoreEngine { .postgresql }
    public private(set) var changes = 0
    /// Run first in every write transaction when instances share the store: a statement that
    /// returns a row only while this instance holds the store's lease (``PostgresLease/fence(_:)``).
    /// A transaction it finds nothing for fails with ``LeaseLost`` before writing anything.
    public var fence: String?
    /// The link's connection count when the open transaction began (nil: none open).
    private var transactionConnection: Int?
    /// Each SQL text as PostgreSQL reads it (`$n` for `?`), by the text the worker wrote.
    private var translated: [String: String] = [:]

    public init(link: PostgresLink, schema: String) {
        self.link = link
        self.schema = schema
        link.sessionStatements.append("SET search_path TO \(StoreSQL.identifier(schema))")
    }

    // MARK: StoreConnection

    public func execute(_ sql: String) throws {
        for statement in StoreSQL.statements(in: sql) { try run(statement, PostgresBindings()) }
    }

    public func prepare(_ sql: String) throws -> PostgresStoreStatement {
        if let known = translated[sql] { return PostgresStoreStatement(sql: known, connection: self) }
        let postgres = StoreSQL.numberedParameters(sql)
        if translated.count < 512 { translated[sql] = postgres }
        return PostgresStoreStatement(sql: postgres, connection: self)
    }

    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try inTransaction("BEGIN") {
            if let fence, try run(fence, PostgresBindings()).rows.isEmpty { throw LeaseLost() }
            return try body()
        }
    }

    /// Like ``transaction(_:)``, read only: PostgreSQL refuses any change made in it.
    public func readOnlyTransaction<T>(_ body: () throws -> T) throws -> T {
        try inTransaction("BEGIN READ ONLY", body)
    }

    private func inTransaction<T>(_ begin: String, _ body: () throws -> T) throws -> T {
        try self.begin(begin)
        let result: T
        do {
            result = try body()
        } catch {
            rollBack()
            throw error
        }
        try commit()
        return result
    }

    public func scalar(_ sql: String) throws -> Int64 {
        let statement = try prepare(sql)
        guard try statement.step() else { return 0 }
        return statement.int64(0)
    }

    // MARK: Running

    private func begin(_ sql: String) throws {
        precondition(transactionConnection == nil, "a transaction is already open on this store connection")
        try link.connect()
        transactionConnection = link.connections
        do { try run(sql, PostgresBindings()) } catch {
            transactionConnection = nil
            throw error
        }
    }

    private func commit() throws {
        defer { transactionConnection = nil }
        // A transaction a failed statement aborted answers COMMIT with ROLLBACK, and no error.
        guard try run("COMMIT", PostgresBindings()).metadata.command != "ROLLBACK" else {
            throw PostgresLinkError.server(sqlState: "25P02", message: "the transaction was aborted by a failed statement and rolled back")
        }
    }

    private func rollBack() {
        defer { transactionConnection = nil }
        if link.isConnected, link.connections == transactionConnection { _ = try? link.query(PostgresQuery(unsafeSQL: "ROLLBACK")) }
    }

    /// Runs one statement and returns its rows.
    func run(_ sql: String, _ bindings: PostgresBindings) throws -> PostgresQueryResult {
        try link.connect()
        if let transactionConnection, transactionConnection != link.connections {
            throw PostgresLinkError.connection("the connection was lost inside a transaction, which was rolled back")
        }
        let result: PostgresQueryResult
        do {
            result = try link.query(PostgresQuery(unsafeSQL: sql, binds: bindings))
        } catch {
            // The statement, for whoever reads the log: the server's message names only a position.
            guard case .server(let state, let message, let constraint) = error else { throw error }
            throw PostgresLinkError.server(sqlState: state, message: "\(message), in: \(sql.prefix(160))", constraint: constraint)
        }
        changes = result.metadata.rows ?? 0
        if let transactionConnection, transactionConnection != link.connections {
            throw PostgresLinkError.connection("the connection was lost inside a transaction, which was rolled back")
        }
        return result
    }
}

/// A statement of a ``PostgresStoreConnection``: bound, then run at its first step, its rows
/// read from the one answer.
public final class PostgresStoreStatement: StoreStatement {
    private enum Value {
        case integer(Int64)
        case real(Double)
        case text(String)
        case bytes([UInt8])
        case null
    }

    let sql: String
    unowned let connection: PostgresStoreConnection
    private var values: [Value] = []
    private var rows: [PostgresRandomAccessRow]?
    private var current = -1

    init(sql: String, connection: PostgresStoreConnection) {
        self.sql = sql
        self.connection = connection
    }

    private func set(_ value: Value, at index: Int32) {
        let position = Int(index) - 1
        precondition(position >= 0, "parameters are numbered from 1")
        if values.count <= position { values += Array(repeating: .null, count: position + 1 - values.count) }
        values[position] = value
        rows = nil
    }

    public func bind(_ value: Int64, at index: Int32) { set(.integer(value), at: index) }
    public func bind(_ value: Int, at index: Int32) { set(.integer(Int64(value)), at: index) }
    public func bind(_ value: Double, at index: Int32) { set(.real(value), at: index) }
    public func bind(_ value: String, at index: Int32) { set(.text(value), at: index) }
    public func bind(_ value: String?, at index: Int32) { set(value.map(Value.text) ?? .null, at: index) }
    public func bind(_ value: [UInt8], at index: Int32) { set(.bytes(value), at: index) }
    public func bindNull(at index: Int32) { set(.null, at: index) }

    private var bindings: PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .integer(let number): bindings.append(number)
            case .real(let number): bindings.append(number)
            case .text(let text): bindings.append(text)
            case .bytes(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            case .null: bindings.appendNull()
            }
        }
        return bindings
    }

    @discardableResult
    public func step() throws -> Bool {
        if rows == nil {
            rows = try connection.run(sql, bindings).rows.map { PostgresRandomAccessRow($0) }
            current = -1
        }
        current += 1
        guard current < rows!.count else {
            rows = nil  // as SQLite: the next step runs the statement again
            return false
        }
        return true
    }

    public func reset() {
        values = []
        rows = nil
    }

    public func run() throws {
        _ = try connection.run(sql, bindings)
        rows = nil
    }

    // MARK: Columns

    private func cell(_ column: Int32) -> PostgresCell {
        guard let rows, rows.indices.contains(current) else { preconditionFailure("no row: step() first") }
        return rows[current][Int(column)]
    }

    public var columnCount: Int32 {
        guard let rows, rows.indices.contains(current) else { return 0 }
        return Int32(rows[current].count)
    }

    public func isNull(_ column: Int32) -> Bool { cell(column).bytes == nil }

    /// As SQLite's: 0 for NULL, integers of every width, booleans as 0 or 1, reals truncated.
    public func int64(_ column: Int32) -> Int64 {
        let cell = cell(column)
        guard var bytes = cell.bytes else { return 0 }
        switch cell.dataType {
        case .int2: return Int64(bytes.readInteger(as: Int16.self) ?? 0)
        case .int4: return Int64(bytes.readInteger(as: Int32.self) ?? 0)
        case .int8: return bytes.readInteger(as: Int64.self) ?? 0
        case .bool: return Int64(bytes.readInteger(as: UInt8.self) ?? 0)
        case .float4, .float8: return Int64(double(column))
        default:
            if let number = try? cell.decode(Decimal.self) { return NSDecimalNumber(decimal: number).int64Value }
            return Int64(text(column) ?? "") ?? 0
        }
    }

    public func double(_ column: Int32) -> Double {
        let cell = cell(column)
        guard cell.bytes != nil else { return 0 }
        switch cell.dataType {
        case .int2, .int4, .int8, .bool: return Double(int64(column))
        default: return (try? cell.decode(Double.self)) ?? 0
        }
    }

    public func text(_ column: Int32) -> String? {
        let cell = cell(column)
        guard let bytes = cell.bytes else { return nil }
        switch cell.dataType {
        case .int2, .int4, .int8, .bool: return String(int64(column))
        case .float4, .float8: return String(double(column))
        default: return (try? cell.decode(String.self)) ?? String(buffer: bytes)
        }
    }

    /// The column's bytes (text as its UTF-8).
    public func blob(_ column: Int32) -> [UInt8] {
        guard let bytes = cell(column).bytes else { return [] }
        return Array(bytes.readableBytesView)
    }

    public func withBlob<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        guard let bytes = cell(column).bytes else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try bytes.withUnsafeReadableBytes(body)
    }
}

extension PostgresLinkError: StoreReachability {
    public var storeIsUnreachable: Bool { isUnreachable }
}

/// This instance no longer holds its store's lease: another instance is active, and this one
/// must write nothing. Counted as the store being out of reach: what failed is not given up on
/// (an event skipped) but waited on, while the instance stops.
public struct LeaseLost: Error, StoreReachability, CustomStringConvertible {
    public init() {}
    public var storeIsUnreachable: Bool { true }
    public var description: String { "this instance no longer holds the store's lease: another instance is active" }
}
