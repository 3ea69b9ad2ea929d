import Foundation
import GridStore

/// A worker's store on PostgreSQL, through the same ``StoreConnection`` the workers use on SQLite:
/// their `?` parameters become `$1, $2, …`, their tables are found in the worker's own schema
/// (`search_path`, set on every new connection).
///
/// Inside a transaction a statement whose rows nobody reads (an INSERT, an UPDATE, a savepoint) is
/// sent and not waited for (``PostgresPipeline``): its answer is read with the next statement that
/// returns rows, at the end of the savepoint it is in, or at `COMMIT`. A failure therefore
/// surfaces there, inside the same savepoint, and a savepoint's body is never told it succeeded
/// before its statements have. Outside a transaction every statement is answered before it returns.
///
/// A transaction never outlives its connection: if the connection is lost inside one, every later
/// statement of it fails (rather than run on a new connection outside the transaction), and the
/// next transaction connects again, to whichever server is primary then.
public final class PostgresStoreConnection: StoreConnection {
    private let pipeline: PostgresPipeline
    /// The worker's schema: its tables and its migrations' record live there.
    public let schema: String
    public var engine: StoreEngine { .postgresql }
    /// Run first in every write transaction when instances share the store: a statement that
    /// returns a row only while this instance holds the store's lease (``PostgresLease/fence(_:)``).
    /// A transaction it finds nothing for fails with ``LeaseLost`` and commits nothing.
    public var fence: String?
    /// The pipeline's connection count when the open transaction began (nil: none open).
    private var transactionConnection: Int?
    /// The open transaction's fence, read with its first answers.
    private var fenceAnswer: PostgresPipeline.Answer?
    /// What makes the open transaction fail whatever its statements do: the lease lost, the
    /// connection lost. Thrown by every later statement of it, and by its commit.
    private var doomed: (any Error)?
    /// Statements sent whose answers nobody has read, whether a worker's statement is among them
    /// (not only BEGIN, savepoints and the fence), and a failure read by ``changes``, not yet thrown.
    private var unanswered: [PostgresPipeline.Answer] = []
    private var unansweredWrites = false
    private var unreported: (any Error)?
    /// Statements sent at most before their answers are read: a bound on what waits in the
    /// sockets' buffers (a batch's outbox inserts are a few hundred bytes each).
    private static let unansweredLimit = 256
    private var lastChanges = 0
    /// Each SQL text as PostgreSQL reads it (`$n` for `?`), by the text the worker wrote.
    private var translated: [String: String] = [:]

    /// - Parameter answerTimeout: how long a statement may go unanswered before the connection is
    ///   given up (a server cut off by the network answers nothing).
    public init(url: PostgresURL, password: String?, schema: String, answerTimeout: Double? = 30) {
        self.schema = schema
        pipeline = PostgresPipeline(url: url, password: password, sessionStatements: ["SET search_path TO \(StoreSQL.identifier(schema))"])
        pipeline.answerTimeout = answerTimeout
    }

    /// The times this connection waited for PostgreSQL's answers (each a round trip).
    public var roundTrips: Int { pipeline.roundTrips }

    /// Rows changed by the last INSERT, UPDATE or DELETE (read now if it was not: a failure among
    /// the answers is thrown by the next statement, or at the end of the savepoint).
    public var changes: Int {
        do { try answerAll() } catch { unreported = unreported ?? error }
        return lastChanges
    }

    // MARK: StoreConnection

    public func execute(_ sql: String) throws {
        for statement in StoreSQL.statements(in: sql) { _ = try run(statement, PostgresParameters(), rows: false) }
    }

    public func prepare(_ sql: String) throws -> PostgresStoreStatement {
        if let known = translated[sql] { return PostgresStoreStatement(sql: known, connection: self) }
        let postgres = StoreSQL.numberedParameters(sql)
        if translated.count < 512 { translated[sql] = postgres }
        return PostgresStoreStatement(sql: postgres, connection: self)
    }

    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try inTransaction("BEGIN") {
            // Read with the transaction's first answers: nothing commits before it is.
            if let fence { fenceAnswer = try send(fence, PostgresParameters()) }
            return try body()
        }
    }

    /// Like ``transaction(_:)``, read only: PostgreSQL refuses any change made in it.
    public func readOnlyTransaction<T>(_ body: () throws -> T) throws -> T {
        try inTransaction("BEGIN READ ONLY", body)
    }

    /// A savepoint whose end waits for its statements' answers (one round trip for all of them),
    /// so that a failure among them is this savepoint's, not a later one's. A failure that dooms
    /// the whole transaction (the lease or the connection lost) is thrown, not returned: there is
    /// nothing to roll back to.
    public func savepoint<T>(_ name: String, _ body: () throws -> T) throws -> Result<T, any Error> {
        // Writes before it are not its own: answered first, so that their failure is not taken for its.
        if unansweredWrites { try answerAll() }
        try control("SAVEPOINT \(name)")
        do {
            let value = try body()
            if unansweredWrites || unreported != nil { try answerAll() }
            try control("RELEASE \(name)")
            return .success(value)
        } catch {
            try? answerAll()
            if let doomed { throw doomed }
            try control("ROLLBACK TO \(name)")
            try control("RELEASE \(name)")
            return .failure(error)
        }
    }

    public func scalar(_ sql: String) throws -> Int64 {
        let statement = try prepare(sql)
        guard try statement.step() else { return 0 }
        return statement.int64(0)
    }

    // MARK: Running

    private func inTransaction<T>(_ begin: String, _ body: () throws -> T) throws -> T {
        precondition(transactionConnection == nil, "a transaction is already open on this store connection")
        // A connection the server closed meanwhile (a restart) is mostly found out here, not by the transaction.
        pipeline.readClosedConnection()
        try pipeline.connect()
        transactionConnection = pipeline.connections
        doomed = nil
        defer {
            transactionConnection = nil
            fenceAnswer = nil
            doomed = nil
            unreported = nil
        }
        let result: T
        do {
            _ = try send(begin, PostgresParameters())
            result = try body()
            let commit = try send("COMMIT", PostgresParameters())
            try answerAll()
            // A transaction a failed statement aborted answers COMMIT with ROLLBACK, and no error.
            guard commit.result?.commandStatus != "ROLLBACK" else {
                throw PostgresLinkError.server(sqlState: "25P02", message: "the transaction was aborted by a failed statement and rolled back")
            }
        } catch {
            rollBack()
            throw error
        }
        return result
    }

    private func rollBack() {
        try? answerAll()
        unanswered = []
        unansweredWrites = false
        guard pipeline.isConnected, pipeline.connections == transactionConnection else { return }
        _ = try? pipeline.send("ROLLBACK", PostgresParameters())
        try? pipeline.sync()
    }

    /// Runs one of the worker's statements; returns its answer, read now when it has rows to read
    /// (or outside a transaction), otherwise at the next read.
    func run(_ sql: String, _ parameters: PostgresParameters, rows: Bool) throws -> PostgresPipeline.Answer {
        try throwUnreported()
        let answer = try send(sql, parameters)
        unansweredWrites = true
        if rows || transactionConnection == nil || unanswered.count >= Self.unansweredLimit { try answerAll() }
        return answer
    }

    /// A savepoint's own statement: sent, its answer read with the next.
    private func control(_ sql: String) throws {
        _ = try send(sql, PostgresParameters())
        if transactionConnection == nil { try answerAll() }
    }

    private func send(_ sql: String, _ parameters: PostgresParameters) throws -> PostgresPipeline.Answer {
        if let doomed { throw doomed }
        if transactionConnection == nil {
            try pipeline.connect()
        } else if !pipeline.isConnected || pipeline.connections != transactionConnection {
            throw doom(PostgresLinkError.connection("the connection was lost inside a transaction, which was rolled back"))
        }
        do {
            let answer = try pipeline.send(sql, parameters)
            unanswered.append(answer)
            return answer
        } catch {
            throw transactionConnection == nil ? error : doom(error)
        }
    }

    /// Reads every answer outstanding; throws the first failure among them.
    private func answerAll() throws {
        if let doomed { throw doomed }
        try throwUnreported()
        guard !unanswered.isEmpty else { return }
        let answers = unanswered
        unanswered = []
        unansweredWrites = false
        do { try pipeline.sync() } catch { throw transactionConnection == nil ? error : doom(error) }
        if let fenceAnswer, fenceAnswer.isRead {
            self.fenceAnswer = nil
            if fenceAnswer.error != nil || (fenceAnswer.result?.rowCount ?? 0) == 0 { throw doom(fenceAnswer.error ?? LeaseLost()) }
        }
        for answer in answers {
            if let error = answer.error { throw error }
            if let changed = answer.result?.changes { lastChanges = changed }
        }
    }

    private func throwUnreported() throws {
        guard let unreported else { return }
        self.unreported = nil
        throw unreported
    }

    /// Marks the open transaction as failed for good.
    private func doom(_ error: any Error) -> any Error {
        if transactionConnection != nil, doomed == nil { doomed = error }
        return doomed ?? error
    }
}

/// A statement of a ``PostgresStoreConnection``: bound, then run at its first step (its rows read
/// from the one answer) or by ``run()`` (its answer read later, see the connection).
public final class PostgresStoreStatement: StoreStatement {
    let sql: String
    unowned let connection: PostgresStoreConnection
    private var parameters = PostgresParameters()
    private var rows: PostgresResult?
    private var current = -1

    init(sql: String, connection: PostgresStoreConnection) {
        self.sql = sql
        self.connection = connection
    }

    private func set(_ value: PostgresParameters.Value, at index: Int32) {
        let position = Int(index) - 1
        precondition(position >= 0, "parameters are numbered from 1")
        if parameters.values.count <= position {
            parameters.values += Array(repeating: .null, count: position + 1 - parameters.values.count)
        }
        parameters.values[position] = value
        rows = nil
    }

    public func bind(_ value: Int64, at index: Int32) { set(.integer(value), at: index) }
    public func bind(_ value: Int, at index: Int32) { set(.integer(Int64(value)), at: index) }
    public func bind(_ value: Double, at index: Int32) { set(.real(value), at: index) }
    public func bind(_ value: String, at index: Int32) { set(.text(value), at: index) }
    public func bind(_ value: String?, at index: Int32) { set(value.map { .text($0) } ?? .null, at: index) }
    public func bind(_ value: [UInt8], at index: Int32) { set(.bytes(value), at: index) }
    public func bindNull(at index: Int32) { set(.null, at: index) }

    @discardableResult
    public func step() throws -> Bool {
        if rows == nil {
            let answer = try connection.run(sql, parameters, rows: true)
            rows = answer.result
            current = -1
        }
        current += 1
        guard let rows, current < rows.rowCount else {
            rows = nil  // as SQLite: the next step runs the statement again
            return false
        }
        return true
    }

    public func reset() {
        parameters.values = []
        rows = nil
    }

    public func run() throws {
        _ = try connection.run(sql, parameters, rows: false)
        rows = nil
    }

    // MARK: Columns

    private var row: (PostgresResult, Int) {
        guard let rows, current >= 0, current < rows.rowCount else { preconditionFailure("no row: step() first") }
        return (rows, current)
    }

    public var columnCount: Int32 {
        guard let rows, current >= 0, current < rows.rowCount else { return 0 }
        return rows.columnCount
    }

    public func isNull(_ column: Int32) -> Bool {
        let (rows, index) = row
        return rows.isNull(index, column)
    }

    /// As SQLite's: 0 for NULL, integers of every width, booleans as 0 or 1, reals and decimals truncated.
    public func int64(_ column: Int32) -> Int64 {
        let (rows, index) = row
        guard !rows.isNull(index, column) else { return 0 }
        let bytes = rows.bytes(index, column)
        if rows.type(column) == PostgresText.bool { return bytes.first == UInt8(ascii: "t") ? 1 : 0 }
        if let number = PostgresText.integer(bytes) { return number }
        return Int64(PostgresText.double(bytes) ?? 0)
    }

    public func double(_ column: Int32) -> Double {
        let (rows, index) = row
        guard !rows.isNull(index, column) else { return 0 }
        let bytes = rows.bytes(index, column)
        if rows.type(column) == PostgresText.bool { return bytes.first == UInt8(ascii: "t") ? 1 : 0 }
        return PostgresText.double(bytes) ?? 0
    }

    public func text(_ column: Int32) -> String? {
        let (rows, index) = row
        guard !rows.isNull(index, column) else { return nil }
        if rows.type(column) == PostgresText.bool { return String(int64(column)) }
        return String(decoding: blob(column), as: UTF8.self)
    }

    /// The column's bytes (text as its UTF-8, bytea decoded).
    public func blob(_ column: Int32) -> [UInt8] {
        withBlob(column) { Array($0) }
    }

    public func withBlob<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let (rows, index) = row
        guard !rows.isNull(index, column) else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        let bytes = rows.bytes(index, column)
        guard rows.type(column) == PostgresText.bytea else { return try body(bytes) }
        let decoded = PostgresText.bytea(bytes)
        return try decoded.withUnsafeBytes(body)
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
