import Foundation
import GridBusClient
import GridDistrict
import GridSchema
import GridStore
import Logging
import Synchronization

/// What `grid-dispatcher rebuild` did.
public struct RebuildReport: Sendable {
    public var path: String
    public var head: UInt64
    public var summary: DispatcherRebuild.Summary
    /// Differences from the live store, when there is one (empty: equal).
    public var differences: [String]?
}

/// `grid-dispatcher rebuild`: replays the journal's `incident.*` and `grid.mode.changed` events
/// into a new store, leaves its cursor at the journal's head so that a dispatcher started on it
/// goes on from there, and compares it with the live store. Stop the dispatcher first for an
/// exact comparison: a running one may have events in its outbox that the journal has not yet.
public func rebuildDispatcher(
    configuration: DispatcherConfiguration,
    logger: Logger,
    progress: @Sendable (_ sequence: UInt64, _ head: UInt64) -> Void = { _, _ in }
) async throws -> RebuildReport {
    let district = try District.load(directory: configuration.districtDirectory)
    let rebuild = DispatcherRebuild(settings: try configuration.settings(catalogue: district.categories.map(\.code)))
    let livePath = configuration.dataDirectory + "/dispatcher.sqlite"
    let path = try WorkerRuntime.rebuildPath(into: configuration.rebuildInto, dataDirectory: configuration.dataDirectory, name: "dispatcher")
    let runtime = try WorkerRuntime(
        name: Dispatcher.source,
        bus: configuration.bus,
        store: .sqlite(path: path),
        checkpointInterval: nil,
        migrations: Dispatcher.migrations,
        publishes: false,
        logger: logger
    )
    let summary = Mutex(DispatcherRebuild.Summary())
    let head = try await runtime.rebuildFromJournal(prefixes: ["incident.", Topic.prefix(forType: .gridModeChanged)], progress: progress) { events in
        let before = summary.withLock { $0 }
        let after = try await runtime.write(durable: false) { connection, _ in
            var summary = before
            for event in events { try rebuild.apply(event.bytes, on: connection, summary: &summary) }
            return summary
        }
        summary.withLock { $0 = after }
    }
    var differences: [String]?
    if FileManager.default.fileExists(atPath: livePath) {
        let live = try await WorkerStore(path: livePath, migrations: Dispatcher.migrations).read { try DispatcherRebuild.Snapshot.read($0) }
        let rebuilt = try await runtime.read { try DispatcherRebuild.Snapshot.read($0) }
        differences = DispatcherRebuild.differences(live: live, rebuilt: rebuilt)
    }
    let result = summary.withLock { $0 }
    if result.heldCount > 0 {
        logger.warning("events of cases whose earlier step is not in the journal were not applied", metadata: ["events": "\(result.heldCount)"])
    }
    logger.notice("rebuilt from the journal", metadata: ["path": "\(path)", "events": "\(result.events)", "cases": "\(result.cases)"])
    return RebuildReport(path: path, head: head, summary: result, differences: differences)
}
