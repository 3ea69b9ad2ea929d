import Foundation
import GridBusClient
import GridConfiguration
import GridDistrict
import GridHTTP
import GridMetrics
import GridSchema
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// The topics the statistics fold in.
let statsPrefixes = ["incident.", "notification.", Topic.prefix(forType: .gridModeChanged)]

/// Composes grid-stats: the durable subscription that folds events in, and the HTTP server.
public func buildStats(
    configuration: StatsConfiguration,
    logger: Logger,
    metrics: DescribedMetricsFactory = DescribedMetricsFactory(),
    onReady: @escaping ReadyHandler = { _ in },
    lease: WorkerLease? = nil
) async throws -> [any Service] {
    let district = try District.load(directory: configuration.districtDirectory)
    let keys = try configuration.auth.keyRing(load: StatsClients.load, development: StatsAccess(), allows: "read the statistics", logger: logger)
    try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
    // Not `durable`: the statistics publish nothing and their cursor commits with them, so a power
    // loss can only take back the last batches whole, and they are folded again from the journal.
    let runtime = try WorkerRuntime(
        name: "grid-stats",
        bus: configuration.bus,
        store: configuration.store.location(file: configuration.dataDirectory + "/stats.sqlite", schema: "gridbus_stats"),
        migrations: Statistics.migrations,
        publishes: false,
        lease: lease,
        metrics: metrics,
        logger: logger
    )
    let statistics = Statistics(district: district, settings: configuration.settings, runtime: runtime, logger: logger)
    runtime.subscribe(prefixes: statsPrefixes, maxBatch: Statistics.foldBatch, catchUpEvery: Statistics.liveBatch) { events in
        try await statistics.handle(events)
    }
    let router = workerRouter(context: StatsAPI.Context.self)
    router.addWorkerRoutes(metrics: metrics, scrape: [runtime.metricsText, statistics.metricsText], openAPI: StatsOpenAPI.json)
    let api = StatsAPI(statistics: statistics, assets: try DashboardAssets(districtDirectory: configuration.districtDirectory))
    api.registerDashboard(on: router)
    // A key in the header, or for the dashboard's event stream (EventSource cannot send headers) in
    // `api_key`: give the dashboard a key of its own, since URLs end up in logs.
    api.register(on: router.group("/api/v1").add(middleware: APIKeyAuthenticator(keys: keys, queryParameter: "api_key")))
    let app = workerApplication(
        router: router,
        program: "grid-stats",
        host: configuration.httpHost,
        port: configuration.httpPort,
        logger: logger,
        onReady: onReady,
        readyMetadata: ["district.grids": "\(district.grids.count)"]
    )
    // The stream closer shuts down before the server (services stop in reverse order): it ends the dashboards' streams.
    return runtime.services([app, StreamCloser(statistics: statistics)])
}

/// Waits for shutdown, then ends the live streams so that the HTTP server can stop.
struct StreamCloser: Service {
    let statistics: Statistics

    func run() async throws {
        try? await gracefulShutdown()
        statistics.finishUpdates()
    }
}

/// What `grid-stats rebuild` did.
public struct StatsRebuildReport: Sendable {
    public var path: String
    public var head: UInt64
    public var events: Int
    /// Indicator tables that differ from the live store's (empty: equal); nil without a live store.
    public var differences: [String]?
}

/// `grid-stats rebuild`: the journal's events folded into a new store by the same code as live,
/// its cursor left at the head, and every table compared with the live store's.
public func rebuildStats(
    configuration: StatsConfiguration,
    logger: Logger,
    progress: @Sendable (UInt64, UInt64) -> Void = { _, _ in }
) async throws -> StatsRebuildReport {
    let district = try District.load(directory: configuration.districtDirectory)
    let path = try WorkerRuntime.rebuildPath(into: configuration.rebuildInto, dataDirectory: configuration.dataDirectory, name: "stats")
    let runtime = try WorkerRuntime(
        name: "grid-stats",
        bus: configuration.bus,
        store: .sqlite(path: path),
        checkpointInterval: nil,
        migrations: Statistics.migrations,
        publishes: false,
        logger: logger
    )
    let statistics = Statistics(district: district, settings: configuration.settings, runtime: runtime, logger: logger)
    let events = Atomic<Int>(0)
    let head = try await runtime.rebuildFromJournal(prefixes: statsPrefixes, batch: Statistics.foldBatch, progress: progress) { batch in
        try await statistics.ingest(batch.map(\.bytes))
        events.add(batch.count, ordering: .relaxed)
    }
    var differences: [String]?
    let livePath = configuration.dataDirectory + "/stats.sqlite"
    if FileManager.default.fileExists(atPath: livePath) {
        let live = try await WorkerStore(path: livePath, migrations: Statistics.migrations).read { try StatsSnapshot.read($0) }
        let rebuilt = try await runtime.read { try StatsSnapshot.read($0) }
        differences = StatsSnapshot.differences(live: live, rebuilt: rebuilt)
    }
    return StatsRebuildReport(path: path, head: head, events: events.load(ordering: .relaxed), differences: differences)
}
