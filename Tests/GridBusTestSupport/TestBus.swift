import Foundation
import GridBusClient
import GridBusDaemon
import GridConfiguration
import GridPostgres
import GridSecurity
import GridStore
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import ZeroMQ

/// A gridbusd running inside the test process on `*` ports and a temporary data directory.
public struct TestBus: Sendable {
    public let endpoints: BusEndpoints
    public let registry: PrometheusCollectorRegistry
    public let context: ZMQContext
    public let configuration: BusConfiguration
    let listening: @Sendable () -> ListeningAddresses?

    /// Where the daemon listens, once its HTTP server is up too (what gridbusd writes to its ready file).
    public var ready: ListeningAddresses? { listening() }

    /// The value of one sample in the Prometheus text, e.g. `metric("gridbus_events_nacked_total", labels: #"reason="invalid""#)`.
    public func metric(_ name: String, labels: String? = nil) -> Double? {
        let prefix = labels.map { "\(name){\($0)} " } ?? "\(name) "
        return registry.emitToString().split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    /// The whole Prometheus text, as `/metrics` serves it.
    public var metricsText: String { registry.emitToString() }

    public static func logger(_ label: String = "test-bus") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = ProcessInfo.processInfo.environment["GRIDBUS_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }
}

/// Runs `body` against a fresh in-process bus, then shuts the bus down gracefully.
/// - Parameter configure: adjusts the configuration (endpoints and data directory are set already).
public func withTestBus<T: Sendable>(
    configure: (inout BusConfiguration) -> Void = { _ in },
    _ body: (TestBus) async throws -> T
) async throws -> T {
    var configuration = BusConfiguration()
    let directory = TemporaryFiles.path("bus")
    configuration.dataDirectory = directory
    configuration.journalPath = directory + "/journal.sqlite"
    configuration.ingressEndpoint = "tcp://127.0.0.1:*"
    configuration.egressEndpoint = "tcp://127.0.0.1:*"
    configuration.replayEndpoint = "tcp://127.0.0.1:*"
    configuration.httpPort = 0
    configuration.heartbeatInterval = 0.2
    // In-process tests run in development mode unless they configure CURVE themselves.
    configuration.securityMode = .none
    configure(&configuration)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let registry = PrometheusCollectorRegistry()
    let context = ZMQContext()
    let listening = Mutex<ListeningAddresses?>(nil)
    let built = try buildDaemon(configuration: configuration, context: context, registry: registry, logger: TestBus.logger()) { addresses in
        listening.withLock { $0 = addresses }
    }
    let daemon = built.daemon
    let group = ServiceGroup(services: built.services, logger: TestBus.logger())
    let finalConfiguration = configuration
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        guard let bound = await daemon.boundEndpoints() else {
            try await tasks.waitForAll()  // the daemon's own error (a port in use, say) rather than a bare cancellation
            throw CancellationError()
        }
        let bus = TestBus(
            endpoints: BusEndpoints(ingress: bound.ingress, egress: bound.egress, replay: bound.replay),
            registry: registry,
            context: ZMQContext(),
            configuration: finalConfiguration,
            listening: { listening.withLock { $0 } }
        )
        do {
            let result = try await body(bus)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

/// A CloudEvent as JSON bytes, built by hand so that tests control every byte.
public func eventBytes(
    id: String,
    type: String = "incident.reported",
    source: String = "test",
    grid: String? = "G-1",
    data: String = #"{"schemaVersion":1}"#
) -> [UInt8] {
    let gridAttribute = grid.map { #","grid":"\#($0)""# } ?? ""
    return Array(#"{"specversion":"1.0","id":"\#(id)","source":"\#(source)","type":"\#(type)"\#(gridAttribute),"data":\#(data)}"#.utf8)
}

/// Polls `condition` until it holds or `timeout` passes (for effects that travel through sockets).
public func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

private let portsHandedOut = Mutex<Set<Int>>([])

/// A TCP port nothing listens on right now (for tests that must start a server later on a known
/// port). Taken below the kernel's ephemeral range: a port from inside it can be handed to another
/// socket in the meantime (tests run in parallel), or even to the client that keeps connecting to
/// it before the server is up (a TCP self-connect), and then the server cannot bind it. Never the
/// same one twice in a run: the probe lets go at once, so two calls could otherwise pick one port
/// for two servers.
public func freePort() throws -> Int {
    let range =
        (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
        .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) } ?? []
    let ephemeralStart = range.first ?? 32768
    let context = ZMQContext()
    for _ in 0..<200 {
        let port = Int.random(in: 10_000..<max(10_001, ephemeralStart))
        guard !portsHandedOut.withLock({ $0.contains(port) }) else { continue }
        let socket = try ZMQSocket(context: context, type: .router)
        defer { socket.close() }
        if (try? socket.bind("tcp://127.0.0.1:\(port)")) != nil, portsHandedOut.withLock({ $0.insert(port).inserted }) { return port }
    }
    throw ZMQError(code: EADDRINUSE, operation: "find a free port below the ephemeral range")
}

/// A worker runtime on a temporary store (or `path`) whose services are not run: tests drive the
/// worker directly and read what it committed, the events for the bus included (its outbox).
/// - Parameter engine: with `.postgresql`, the store is a schema in a database of the shared test
///   server, one database per `path` (the same `path` opens the same store again).
public func offlineRuntime(
    _ name: String,
    migrations: Migrations,
    path: String? = nil,
    durable: Bool = false,
    engine: StoreEngine = .sqlite
) throws -> WorkerRuntime {
    let path = path ?? TemporaryFiles.store(name)
    return try WorkerRuntime(
        name: name,
        bus: BusEndpoints(ingress: "tcp://127.0.0.1:1", egress: "tcp://127.0.0.1:1", replay: "tcp://127.0.0.1:1"),
        store: try testStore(path, engine: engine, schema: name.replacingOccurrences(of: "-", with: "_")),
        durable: durable,
        checkpointInterval: nil,
        migrations: migrations,
        logger: TestBus.logger()
    )
}

/// The store a test names by `path`: that SQLite file, or on PostgreSQL a database of the shared
/// test server kept for `path` (made on first use), with the worker's `schema` in it.
public func testStore(_ path: String, engine: StoreEngine, schema: String) throws -> StoreLocation {
    switch engine {
    case .sqlite: return .sqlite(path: path)
    case .postgresql:
        let url = try testDatabases.withLock { databases in
            if let url = databases[path] { return url }
            let url = try PostgresTestServer.shared().makeDatabase("store")
            databases[path] = url
            return url
        }
        return .postgresql(url: try PostgresURL(parsing: url), password: nil, schema: schema)
    }
}

private let testDatabases = Mutex<[String: String]>([:])
