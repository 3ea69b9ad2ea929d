import CPostgres
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One libpq session in pipeline mode, for one thread: a statement is sent when it is added, its
/// answer read at the next ``sync()``, together with every other statement sent since. A
/// transaction's writes then cost the server and the client one round trip, not one each.
///
/// Measured with pgbench on the 2-core benchmark machine (docs/benchmarks.md, (t)): a transaction
/// of eleven short statements cost PostgreSQL 0.50–0.79 ms of CPU one by one and 0.16–0.18 ms
/// pipelined, and its client 0.30 ms against 0.04 ms. postgres-nio sends one statement at a time.
///
/// Statements are prepared once per connection (by their text and their parameters' types):
/// the server then neither parses nor, once it settles on a generic plan, plans them again.
///
/// Connecting is libpq's: the URL's hosts in order, for `target_session_attrs=read-write` the
/// first that is not in recovery. A lost connection is dropped; the next statement connects again.
/// Not thread-safe: one owner.
final class PostgresPipeline {
    /// A statement's answer, filled in by the ``sync()`` that reads it.
    final class Answer {
        let sql: String
        /// For a preparation: the statement it prepares (which fails with it), and its cache key.
        fileprivate var prepares: (statement: Answer, key: String)?
        fileprivate(set) var result: PostgresResult?
        fileprivate(set) var error: PostgresLinkError?
        /// True once read: the statement ran, failed or was skipped (after an earlier failure).
        fileprivate(set) var isRead = false
        init(sql: String) { self.sql = sql }
    }

    private let url: PostgresURL
    private let password: String?
    /// Statements every new connection runs first (`SET search_path`).
    private let sessionStatements: [String]
    /// How long an answer may take before the connection is given up (a server cut off by the
    /// network answers nothing, and TCP would take many minutes to say so). nil: for ever.
    var answerTimeout: Double?
    private var connection: OpaquePointer?
    /// Connections made so far: a new one may be to another server, and a transaction never
    /// continues on one it did not begin on.
    private(set) var connections = 0
    /// Synchronisation points so far: the round trips statements cost.
    private(set) var roundTrips = 0
    /// Statements sent and not yet read, in order.
    private var unread: [Answer] = []
    /// Statement names by parameter types and text, on the current connection.
    private var prepared: [String: String] = [:]
    /// Names given on the current connection (a failed preparation's name is not used again).
    private var preparations = 0
    /// More distinct statements than this run unprepared (a worker has a few dozen; a query built
    /// from filters may have many forms, each a plan kept on the server).
    private static let preparedLimit = 256

    init(url: PostgresURL, password: String?, sessionStatements: [String]) {
        self.url = url
        self.password = password
        self.sessionStatements = sessionStatements
    }

    deinit { drop() }

    var isConnected: Bool { connection.map { PQstatus($0) == CONNECTION_OK } ?? false }

    // MARK: Connecting

    /// Connects unless connected.
    func connect() throws(PostgresLinkError) {
        if isConnected { return }
        drop()
        var keywords = [
            ("host", url.hosts.map(\.name).joined(separator: ",")),
            ("port", url.hosts.map { String($0.port) }.joined(separator: ",")),
            ("dbname", url.database), ("user", url.user), ("sslmode", url.tls.rawValue),
            ("target_session_attrs", url.target.rawValue),
            // libpq waits at least 2 s for a host.
            ("connect_timeout", String(max(2, Int(url.connectTimeout.rounded(.up))))),
        ]
        if let password { keywords.append(("password", password)) }
        if let name = url.applicationName { keywords.append(("application_name", name)) }
        let opened = withCStrings(keywords.map(\.0)) { names in
            withCStrings(keywords.map(\.1)) { values in PQconnectdbParams(names, values, 0) }
        }
        guard let opened else { throw .unavailable(["libpq could not allocate a connection"]) }
        guard PQstatus(opened) == CONNECTION_OK else {
            let message = Self.message(PQerrorMessage(opened))
            PQfinish(opened)
            throw .unavailable(message.split(separator: "\n").map { String($0) })
        }
        // libpq prints the server's notices on stderr; a worker's statements raise none worth a log line.
        _ = PQsetNoticeProcessor(opened, { _, _ in }, nil)
        guard PQenterPipelineMode(opened) == 1 else {
            let message = Self.message(PQerrorMessage(opened))
            PQfinish(opened)
            throw .connection("libpq refused pipeline mode: \(message)")
        }
        connection = opened
        connections += 1
        let answers = try sessionStatements.map { statement throws(PostgresLinkError) in try send(statement, PostgresParameters()) }
        try sync()
        if let error = answers.lazy.compactMap(\.error).first {
            drop()
            throw error
        }
    }

    /// Reads what the server sent unasked (nothing, or the end of a connection it closed), so that
    /// a closed connection is known before a statement is sent on it. Does not wait.
    func readClosedConnection() {
        guard let connection, unread.isEmpty else { return }
        if PQconsumeInput(connection) == 0 || PQstatus(connection) != CONNECTION_OK { drop() }
    }

    /// Closes the connection; the next statement connects again.
    func close() { drop() }

    private func drop() {
        if let connection { PQfinish(connection) }
        connection = nil
        prepared = [:]
        preparations = 0
        let lost = unread
        unread = []
        for answer in lost where !answer.isRead {
            answer.error = .connection("the connection was closed before PostgreSQL answered")
            answer.isRead = true
        }
    }

    // MARK: Statements

    /// Sends a statement (preparing it first on this connection); its answer is read at the next ``sync()``.
    func send(_ sql: String, _ parameters: PostgresParameters) throws(PostgresLinkError) -> Answer {
        guard let connection else { throw .connection("not connected") }
        let answer = Answer(sql: sql)
        let types = parameters.types
        // Prepared once for each set of parameter types: a NULL (type 0) is inferred, so it differs.
        let key = types.map { String($0) }.joined(separator: ",") + "\u{0}" + sql
        var name = prepared[key]
        if name == nil, prepared.count < Self.preparedLimit {
            preparations += 1
            let newName = "gridbus_\(preparations)"
            let sent = types.withUnsafeBufferPointer { types in
                PQsendPrepare(connection, newName, sql, Int32(types.count), types.baseAddress)
            }
            guard sent == 1 else { throw lose("could not send a statement") }
            // Its answer comes before the statement's; a failed preparation fails the statement too.
            let preparation = Answer(sql: sql)
            preparation.prepares = (answer, key)
            unread.append(preparation)
            prepared[key] = newName
            name = newName
        }
        let sent = parameters.withArrays(types: types) { count, types, values, lengths, formats in
            if let name {
                PQsendQueryPrepared(connection, name, count, values, lengths, formats, 0)
            } else {
                PQsendQueryParams(connection, sql, count, types, values, lengths, formats, 0)
            }
        }
        guard sent == 1 else { throw lose("could not send a statement") }
        unread.append(answer)
        return answer
    }

    /// Ends the statements sent so far with a synchronisation point and reads every answer: one
    /// round trip. After a statement fails, PostgreSQL skips the rest up to the point; their
    /// answers say so. Throws only when the connection fails.
    func sync() throws(PostgresLinkError) {
        guard !unread.isEmpty else { return }
        guard let connection else { throw .connection("not connected") }
        guard PQpipelineSync(connection) == 1 else { throw lose("could not send to PostgreSQL") }
        roundTrips += 1
        for answer in unread {
            // Each statement's results, then a nil that ends them.
            while let result = try nextResult(connection) {
                let wrapped = PostgresResult(result)
                switch PQresultStatus(result) {
                case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                    answer.result = wrapped
                case PGRES_PIPELINE_ABORTED:
                    if answer.error == nil {
                        answer.error = .server(sqlState: "25P02", message: "not run: an earlier statement failed, in: \(answer.sql.prefix(160))")
                    }
                    // A preparation skipped too: the next use prepares it again.
                    if let (_, key) = answer.prepares { prepared.removeValue(forKey: key) }
                default:
                    answer.error = wrapped.error(sql: answer.sql)
                    if let (statement, key) = answer.prepares {
                        statement.error = answer.error
                        prepared.removeValue(forKey: key)
                    }
                }
            }
            answer.isRead = true
        }
        unread = []
        guard let end = try nextResult(connection) else { throw lose("PostgreSQL ended a pipeline without its synchronisation point") }
        let status = PQresultStatus(end)
        PQclear(end)
        guard status == PGRES_PIPELINE_SYNC else { throw lose("PostgreSQL answered out of order (\(status.rawValue))") }
    }

    /// The next result, waiting at most ``answerTimeout`` for the server.
    private func nextResult(_ connection: OpaquePointer) throws(PostgresLinkError) -> OpaquePointer? {
        let deadline = answerTimeout.map { monotonicSeconds() + $0 }
        while PQisBusy(connection) == 1 {
            var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
            let wait = deadline.map { Int32(max(0, ($0 - monotonicSeconds()) * 1000).rounded(.up)) } ?? -1
            let ready = poll(&descriptor, 1, wait)
            if ready == 0 { throw lose("PostgreSQL did not answer within \(answerTimeout ?? 0) s") }
            if ready < 0, errno != EINTR { throw lose("poll failed (errno \(errno))") }
            guard PQconsumeInput(connection) == 1 else { throw lose("the connection failed") }
        }
        return PQgetResult(connection)
    }

    /// Drops the connection after a failure of it; the error to throw.
    private func lose(_ what: String) -> PostgresLinkError {
        let detail = connection.map { Self.message(PQerrorMessage($0)) } ?? ""
        drop()
        return .connection(detail.isEmpty ? what : "\(what): \(detail)")
    }

    static func message(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Calls `body` with `strings` as a NULL-terminated array of C strings.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    var pointers = strings.map { UnsafePointer(strdup($0)) }
    pointers.append(nil)
    defer { for pointer in pointers { free(UnsafeMutablePointer(mutating: pointer)) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

private func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
