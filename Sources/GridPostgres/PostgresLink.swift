import Dispatch
import GridStore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// One PostgreSQL session for one dedicated thread, which waits for each answer.
///
/// The journal, replay and follower loops each own a thread of their own (never the concurrency
/// pool), so waiting there on postgres-nio's futures blocks nothing else; the I/O itself runs on
/// NIO's event loops. Not thread-safe: one owner.
///
/// Connecting tries the URL's hosts in order. For `target_session_attrs=read-write` it takes the
/// first that is not in recovery, so that after a failover (Patroni or the operator promotes a
/// standby) the next connection finds the new primary. A lost connection is dropped, and the next
/// call connects again.
public final class PostgresLink {
    public let url: PostgresURL
    private let password: String?
    private let logger: Logger
    private let group: any EventLoopGroup
    private var connection: PostgresConnection?
    private var nextConnectionID = 0
    /// The host of the current connection, if any.
    public private(set) var connectedHost: PostgresURL.Host?
    /// Counts the connections made: a new one may be to another server (a promoted standby), so
    /// what the owner knew of the data may need reading again.
    public private(set) var connections = 0
    /// The channel this session listens on and what a notification calls: every new connection
    /// listens again.
    private var listening: (channel: String, notify: @Sendable () -> Void)?
    private var listenContext: PostgresListenContext?
    /// How long a statement may go unanswered before the connection is given up (closed, the
    /// statement failed as a lost connection). A server cut off by the network answers nothing,
    /// and TCP would take many minutes to say so. nil: wait for ever.
    public var answerTimeout: Double?

    public init(url: PostgresURL, password: String?, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.url = url
        self.password = password
        self.logger = logger
        self.group = group
    }

    deinit { close() }

    public var isConnected: Bool { connection.map { !$0.isClosed } ?? false }

    /// Connects unless connected.
    /// - Throws: ``PostgresLinkError/unavailable(_:)`` naming each host and why it was not taken.
    public func connect() throws(PostgresLinkError) {
        if let connection, !connection.isClosed { return }
        dropConnection()
        var refusals: [String] = []
        for host in url.hosts {
            do {
                let candidate = try open(host)
                if url.target == .readWrite {
                    let inRecovery: Bool?
                    do {
                        inRecovery = try answer(to: candidate.query("SELECT pg_is_in_recovery()", logger: logger), on: candidate).rows.first?.decode(
                            Bool.self
                        )
                    } catch {
                        try? candidate.close().wait()
                        throw error
                    }
                    if inRecovery != false {
                        try? candidate.close().wait()
                        refusals.append("\(host): a standby (in recovery)")
                        continue
                    }
                }
                do {
                    try startListening(on: candidate)
                } catch {
                    try? candidate.close().wait()
                    throw error
                }
                connection = candidate
                connectedHost = host
                connections += 1
                return
            } catch {
                refusals.append("\(host): \(PostgresLinkError.describe(error))")
            }
        }
        throw .unavailable(refusals)
    }

    private func open(_ host: PostgresURL.Host) throws -> PostgresConnection {
        let tls: PostgresConnection.Configuration.TLS
        switch url.tls {
        case .disable: tls = .disable
        case .prefer, .require:
            // As libpq's prefer and require: encrypted, the server's certificate not checked.
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            let context = try NIOSSLContext(configuration: configuration)
            tls = url.tls == .prefer ? .prefer(context) : .require(context)
        }
        var configuration = PostgresConnection.Configuration(
            host: host.name,
            port: host.port,
            username: url.user,
            password: password,
            database: url.database,
            tls: tls
        )
        configuration.options.connectTimeout = .milliseconds(Int64(url.connectTimeout * 1000))
        if let name = url.applicationName { configuration.options.additionalStartupParameters = [("application_name", name)] }
        nextConnectionID += 1
        return try PostgresConnection.connect(on: group.next(), configuration: configuration, id: nextConnectionID, logger: logger).wait()
    }

    /// Listens on `channel` (`LISTEN`) on this connection and every later one; `notify` runs on
    /// an event loop at each notification. A notification sent while no connection listened is
    /// not delivered: after a new connection (``connections``) the owner reads what it may have
    /// missed.
    public func listen(_ channel: String, notify: @escaping @Sendable () -> Void) throws(PostgresLinkError) {
        listening = (channel, notify)
        guard let connection, !connection.isClosed else { return }
        do {
            try startListening(on: connection)
        } catch {
            if connection.isClosed { dropConnection() }
            throw PostgresLinkError(error)
        }
    }

    /// Stops listening, on this connection and the next ones.
    public func unlisten() {
        guard let listening else { return }
        self.listening = nil
        listenContext?.stop()
        listenContext = nil
        if isConnected { _ = try? query(PostgresQuery(unsafeSQL: "UNLISTEN " + StoreSQL.identifier(listening.channel))) }
    }

    private func startListening(on connection: PostgresConnection) throws {
        guard let listening else { return }
        listenContext?.stop()
        let notify = listening.notify
        listenContext = connection.addListener(channel: listening.channel) { _, _ in notify() }
        _ = try answer(
            to: connection.query(PostgresQuery(unsafeSQL: "LISTEN " + StoreSQL.identifier(listening.channel)), logger: logger),
            on: connection
        )
    }

    /// Runs one statement (connecting first if needed) and returns all its rows.
    @discardableResult
    public func query(_ query: PostgresQuery) throws(PostgresLinkError) -> PostgresQueryResult {
        try connect()
        guard let connection else { throw .unavailable(["not connected"]) }
        do {
            return try answer(to: connection.query(query, logger: logger), on: connection)
        } catch {
            if connection.isClosed { dropConnection() }
            throw PostgresLinkError(error)
        }
    }

    /// Waits for a statement's answer, at most ``answerTimeout``: past it the connection is closed.
    private func answer(to future: EventLoopFuture<PostgresQueryResult>, on connection: PostgresConnection) throws -> PostgresQueryResult {
        guard let answerTimeout else { return try future.wait() }
        let answered = DispatchSemaphore(value: 0)
        future.whenComplete { _ in answered.signal() }
        guard answered.wait(timeout: .now() + answerTimeout) == .success else {
            // Closing fails the statement's future too; the next call connects again.
            try? connection.close().wait()
            throw PostgresLinkError.connection("PostgreSQL did not answer within \(answerTimeout) s")
        }
        return try future.wait()
    }

    /// Runs `body` between `BEGIN` and `COMMIT`; rolls back if it throws. `COMMIT` returning is the
    /// commit (with a synchronous standby, on two machines).
    public func transaction<Result>(_ body: () throws -> Result) throws -> Result {
        try query("BEGIN")
        let result: Result
        do {
            result = try body()
        } catch {
            if isConnected { _ = try? query("ROLLBACK") }
            throw error
        }
        try query("COMMIT")
        return result
    }

    /// Closes the connection; the next call connects again.
    public func close() { dropConnection() }

    private func dropConnection() {
        if let connection, !connection.isClosed { try? connection.close().wait() }
        connection = nil
        connectedHost = nil
        listenContext = nil
    }
}

/// Why PostgreSQL did not answer as asked, in words an operator can act on (postgres-nio's own
/// descriptions hide the server's message on purpose).
public enum PostgresLinkError: Error, Sendable, CustomStringConvertible {
    /// No host could be used: each host and why.
    case unavailable([String])
    /// The server refused the statement: its SQLSTATE and message, and the constraint that
    /// refused it, if one did.
    case server(sqlState: String, message: String, constraint: String? = nil)
    /// The connection failed or closed during the call.
    case connection(String)

    public init(_ error: any Error) {
        if let error = error as? PostgresLinkError {
            self = error
        } else if let error = error as? PSQLError, error.code == .server, let info = error.serverInfo {
            self = .server(sqlState: info[.sqlState] ?? "?????", message: info[.message] ?? "no message", constraint: info[.constraintName])
        } else {
            self = .connection(Self.describe(error))
        }
    }

    /// The server's SQLSTATE, if the server refused.
    public var sqlState: String? { if case .server(let state, _, _) = self { state } else { nil } }

    /// The constraint that refused the statement, if one did.
    public var constraint: String? { if case .server(_, _, let constraint) = self { constraint } else { nil } }

    /// Whether the server could not be reached or could not serve now: no host, a lost connection,
    /// or a refusal of that kind (connection exceptions, class 08; shutting down or starting, 57P;
    /// out of resources, 53; read-only, 25006, a standby not yet promoted). The same statement
    /// succeeds once the server is back.
    public var isUnreachable: Bool {
        switch self {
        case .unavailable, .connection: true
        case .server(let state, _, _): state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53") || state == "25006"
        }
    }

    /// Whether the server refused because a unique key already holds the value (23505).
    public var isUniqueViolation: Bool { sqlState == "23505" }

    public var description: String {
        switch self {
        case .unavailable(let hosts): "PostgreSQL unavailable: " + (hosts.isEmpty ? "no hosts" : hosts.joined(separator: "; "))
        case .server(let state, let message, _): "PostgreSQL refused (\(state)): \(message)"
        case .connection(let reason): "PostgreSQL connection lost: \(reason)"
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if error.code == .server, let info = error.serverInfo {
            return "\(info[.sqlState] ?? "?????") \(info[.message] ?? "")"
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}
