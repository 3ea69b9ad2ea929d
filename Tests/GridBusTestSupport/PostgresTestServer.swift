import Foundation
import GridPlugins
import Synchronization

/// A real PostgreSQL server for the tests: Debian's binaries (`make test-deps` installs
/// `postgresql`), a cluster made with `initdb` in a temporary folder, on a free loopback port.
///
/// PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user and every
/// command runs through `runuser -u postgres --`. The server is stopped when the test process exits.
public final class PostgresTestServer: Sendable {
    public let port: Int
    public let directory: String
    let binaries: String

    /// One server for the whole test process, started on first use; each test takes a database of its own.
    public static func shared() throws -> PostgresTestServer {
        try sharedServer.withLock { server in
            if let server { return server }
            let started = try PostgresTestServer(name: "shared")
            server = started
            return started
        }
    }

    private static let sharedServer = Mutex<PostgresTestServer?>(nil)

    /// Makes and starts a cluster.
    /// - Parameters:
    ///   - configuration: lines added to `postgresql.conf` (for a primary: `wal_level`, `synchronous_standby_names`).
    ///   - network: an address to listen on besides 127.0.0.1, and the clients (`ADDRESS/BITS`)
    ///     trusted there (a node in a network namespace of its own).
    public init(name: String, port: Int? = nil, configuration: [String] = [], network: (listen: String, clients: String)? = nil) throws {
        binaries = try Self.findBinaries()
        self.port = try port ?? freePort()
        directory = try TemporaryFiles.makeDirectory("postgres-\(name)")
        try Self.handToPostgres(directory)
        try Self.command("initdb", in: binaries, ["-D", directory + "/data", "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
        try writeConfiguration(
            [
                "port = \(self.port)", "listen_addresses = '127.0.0.1\(network.map { "," + $0.listen } ?? "")'",
                "unix_socket_directories = '\(directory)'", "max_connections = 100", "shared_buffers = 64MB",
            ] + configuration
        )
        if let network { try writeConfiguration(["host all all \(network.clients) trust"], file: "pg_hba.conf") }
        try start()
        Self.register(self)
    }

    /// A server made from a base backup of `primary`, streaming from it (`pg_basebackup -R`).
    public init(standbyOf primary: PostgresTestServer, name: String, applicationName: String) throws {
        binaries = primary.binaries
        port = try freePort()
        directory = try TemporaryFiles.makeDirectory("postgres-\(name)")
        try Self.handToPostgres(directory)
        try Self.command(
            "pg_basebackup",
            in: binaries,
            ["-h", "127.0.0.1", "-p", "\(primary.port)", "-U", "postgres", "-D", directory + "/data", "-R", "--checkpoint=fast"]
        )
        try writeConfiguration(["port = \(port)", "unix_socket_directories = '\(directory)'"])
        // In postgresql.auto.conf, after the line `-R` wrote there (which would win over postgresql.conf):
        // the application name is what synchronous_standby_names names.
        try writeConfiguration(
            ["primary_conninfo = 'host=127.0.0.1 port=\(primary.port) user=postgres application_name=\(applicationName)'"],
            file: "postgresql.auto.conf"
        )
        try start()
        Self.register(self)
    }

    private static let running = Mutex<[PostgresTestServer]>([])

    private static func register(_ server: PostgresTestServer) {
        let first = running.withLock {
            $0.append(server)
            return $0.count == 1
        }
        if first { atexit { PostgresTestServer.stopAll() } }
    }

    private static func stopAll() {
        for server in running.withLock({ $0 }) { try? server.stop(mode: "immediate") }
    }

    public func start() throws {
        try Self.command("pg_ctl", in: binaries, ["-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60", "start"])
    }

    /// `immediate` is a crash as far as the data is concerned (`kill -9` of the postmaster's whole group).
    public func stop(mode: String = "fast") throws {
        guard FileManager.default.fileExists(atPath: directory + "/data/postmaster.pid") else { return }
        try Self.command("pg_ctl", in: binaries, ["-D", directory + "/data", "-m", mode, "-w", "stop"])
    }

    /// Waits until the standby named `applicationName` streams from this server as its synchronous standby.
    public func awaitSynchronousStandby(_ applicationName: String, timeout: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try psql("SELECT sync_state FROM pg_stat_replication WHERE application_name = '\(applicationName)'") == "sync" { return }
            usleep(50_000)
        }
        throw PostgresTestError("\(applicationName) did not become a synchronous standby within \(Int(timeout)) s")
    }

    public func promote() throws {
        try Self.command("pg_ctl", in: binaries, ["-D", directory + "/data", "-w", "promote"])
    }

    /// Runs SQL through psql as the superuser; returns what it printed (unaligned, tuples only).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        try Self.command(
            "psql",
            in: binaries,
            ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", database, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql]
        )
    }

    /// A new, empty database; returns its URL for the journal or a store.
    /// - Parameter settings: server settings for every session of the database
    ///   (`ALTER DATABASE … SET`), such as `synchronous_commit`.
    public func makeDatabase(_ prefix: String = "t", settings: [(name: String, value: String)] = []) throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
        try psql("CREATE DATABASE \(name)")
        for setting in settings { try psql("ALTER DATABASE \(name) SET \(setting.name) = '\(setting.value)'") }
        return url(database: name)
    }

    public func url(database: String, host: String = "127.0.0.1") -> String {
        "postgresql://postgres@\(host):\(port)/\(database)?sslmode=disable"
    }

    private func writeConfiguration(_ lines: [String], file: String = "postgresql.conf") throws {
        let path = directory + "/data/" + file
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("\n" + lines.joined(separator: "\n") + "\n").utf8))
        try handle.close()
        if lines.contains(where: { $0.hasPrefix("wal_level") }) {
            let hba = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/data/pg_hba.conf"))
            try hba.seekToEnd()
            try hba.write(contentsOf: Data("host replication postgres 127.0.0.1/32 trust\n".utf8))
            try hba.close()
        }
    }

    // MARK: Running Debian's binaries

    private static var isRoot: Bool { getuid() == 0 }

    private static func findBinaries() throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw PostgresTestError("PostgreSQL's server binaries are not in /usr/lib/postgresql: `apt-get install postgresql` (make test-deps does)")
        }
        return "/usr/lib/postgresql/\(newest)/bin"
    }

    private static func handToPostgres(_ directory: String) throws {
        guard isRoot else { return }
        try command("/bin/chown", in: nil, ["-R", "postgres:postgres", directory], asPostgres: false)
        // The path down to it must be walkable by postgres.
        var parent = (directory as NSString).deletingLastPathComponent
        while parent != "/" && !parent.isEmpty {
            _ = chmod(
                parent,
                (try? FileManager.default.attributesOfItem(atPath: parent)[.posixPermissions] as? Int).map { mode_t($0) | 0o011 } ?? 0o755
            )
            parent = (parent as NSString).deletingLastPathComponent
        }
    }

    /// Runs a command to its end with the project's own one-shot runner (the notifier's channels
    /// use it): its own process group, only stdin, stdout and stderr kept, and reaped by pid.
    /// Foundation's `Process` left a child unreaped when waited for from a test's thread.
    @discardableResult
    static func command(_ name: String, in binaries: String?, _ arguments: [String], asPostgres: Bool = true) throws -> String {
        let program = binaries.map { "\($0)/\(name)" } ?? name
        let argv = isRoot && asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--", program] + arguments : [program] + arguments
        let result = try OneShotProcess.runBlocking(
            executable: argv[0],
            arguments: Array(argv.dropFirst()),
            environment: ProcessInfo.processInfo.environment,
            directory: "/tmp",
            input: [],
            timeout: 120
        )
        guard result.status?.code == 0 else {
            let ended = result.timedOut ? "overran 120 s" : "ended with \(result.status.map { "\($0)" } ?? "nothing")"
            throw PostgresTestError(
                "\(name) \(arguments.joined(separator: " ")) \(ended): \(String(decoding: result.standardError, as: UTF8.self))"
            )
        }
        return String(decoding: result.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

public struct PostgresTestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
