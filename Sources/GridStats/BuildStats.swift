import Foundation
import GridBusClient
import GridConfiguration
import GridDistrict
import GridHTTP
import GridSchema
import Hummingbird
import Logging
import ServiceLifecycle
import ZeroMQ

/// The topics the statistics fold in.
let statsPrefixes = ["incident.", "notification.", Topic.prefix(forType: .gridModeChanged)]

/// Composes grid-stats: the durable subscriber that folds events in, and the HTTP server.
public func buildStats(
    configuration: StatsConfiguration,
    context: ZMQContext,
    logger: Logger,
    handleSignals: Bool = true
) async throws -> ServiceGroup {
    let district = try District.load(directory: configuration.districtDirectory)
    let keys = try configuration.auth.keyRing(load: StatsClients.load, development: StatsAccess(), allows: "read the statistics", logger: logger)
    try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
    // Not `durable`: the statistics publish nothing and their cursor commits with them, so a power
    // loss can only take back the last batches whole, and they are folded again from the journal.
    let store = try WorkerStore(path: configuration.dataDirectory + "/stats.sqlite", checkpointInterval: .milliseconds(250))
    try await Statistics.prepare(store)
    let statistics = Statistics(district: district, settings: configuration.settings, store: store, logger: logger)
    let subscriber = DurableSubscriber(
        name: "grid-stats",
        endpoints: configuration.bus,
        prefixes: statsPrefixes,
        store: store,
        context: context,
        logger: logger,
        maxBatch: Statistics.foldBatch,
        catchUpEvery: Statistics.liveBatch
    ) { events in try await statistics.handle(events) }
    let router = Router()
    StatsAPI(statistics: statistics, keys: keys, assets: try DashboardAssets(districtDirectory: configuration.districtDirectory)).register(on: router)
    let app = workerApplication(
        router: router,
        program: "grid-stats",
        host: configuration.httpHost,
        port: configuration.httpPort,
        dataDirectory: configuration.dataDirectory,
        logger: logger,
        readyMetadata: ["district.grids": "\(district.grids.count)"]
    )
    // Shut down before the server (services stop in reverse order): it ends the dashboards' streams.
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
        .init(service: subscriber), .init(service: app), .init(service: StreamCloser(statistics: statistics)),
    ]
    if handleSignals { services.append(.terminationSignals(logger: logger)) }
    return ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [], logger: logger))
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

public struct StatsRebuildError: Error, CustomStringConvertible {
    public let description: String
}

/// `grid-stats rebuild`: the journal's events folded into a new store by the same code as live,
/// its cursor left at the head, and every table compared with the live store's.
public func rebuildStats(
    configuration: StatsConfiguration,
    context: ZMQContext,
    logger: Logger,
    progress: @Sendable (UInt64, UInt64) -> Void = { _, _ in }
) async throws -> StatsRebuildReport {
    let district = try District.load(directory: configuration.districtDirectory)
    let path = configuration.rebuildInto.isEmpty ? configuration.dataDirectory + "/stats.rebuilt.sqlite" : configuration.rebuildInto
    guard !FileManager.default.fileExists(atPath: path) else {
        throw StatsRebuildError(description: "\(path) already exists; move it away or choose another file with --rebuild-into")
    }
    try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
    let store = try WorkerStore(path: path)
    try await Statistics.prepare(store)
    let statistics = Statistics(district: district, settings: configuration.settings, store: store, logger: logger)
    let requester = BusRequester(context: context, endpoint: configuration.bus.replay, credentials: configuration.bus.credentials)
    var cursor: UInt64 = 0
    var head: UInt64?
    var events = 0
    while true {
        let batch = try await requester.replay(after: cursor, prefixes: statsPrefixes, limit: Statistics.foldBatch)
        if head == nil {
            head = batch.head
            guard batch.tail <= 1 else {
                await requester.close()
                throw StatsRebuildError(
                    description:
                        "the journal starts at sequence \(batch.tail): the events before it are gone, so the statistics cannot be rebuilt completely"
                )
            }
        }
        let slice = batch.events.filter { $0.sequence <= head! }
        try await statistics.ingest(slice.map(\.bytes))
        events += slice.count
        cursor = batch.next
        progress(min(cursor, head!), head!)
        if batch.isComplete || cursor >= head! { break }
    }
    await requester.close()
    try await store.saveCursor(head ?? 0, for: "grid-stats")
    var differences: [String]?
    let livePath = configuration.dataDirectory + "/stats.sqlite"
    if FileManager.default.fileExists(atPath: livePath) {
        let live = try await WorkerStore(path: livePath).withConnection { try StatsSnapshot.read($0) }
        let rebuilt = try await store.withConnection { try StatsSnapshot.read($0) }
        differences = StatsSnapshot.differences(live: live, rebuilt: rebuilt)
    }
    return StatsRebuildReport(path: path, head: head ?? 0, events: events, differences: differences)
}
