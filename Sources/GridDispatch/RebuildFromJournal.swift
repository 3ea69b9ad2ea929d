import Foundation
import GridBusClient
import GridDistrict
import GridSchema
import GridStore
import Logging
import ZeroMQ

/// What `grid-dispatcher rebuild` did.
public struct RebuildReport: Sendable {
    public var path: String
    public var head: UInt64
    public var summary: DispatcherRebuild.Summary
    /// Differences from the live store, when there is one (empty: equal).
    public var differences: [String]?
}

public struct RebuildError: Error, CustomStringConvertible {
    public let description: String
}

/// `grid-dispatcher rebuild`: replays the journal's `incident.*` and `grid.mode.changed` events
/// into a new store, leaves its cursor at the journal's head so that a dispatcher started on it
/// goes on from there, and compares it with the live store. Stop the dispatcher first for an
/// exact comparison: a running one may have events in its outbox that the journal has not yet.
public func rebuildDispatcher(
    configuration: DispatcherConfiguration,
    context: ZMQContext,
    logger: Logger,
    progress: @Sendable (_ sequence: UInt64, _ head: UInt64) -> Void = { _, _ in }
) async throws -> RebuildReport {
    let district = try District.load(directory: configuration.districtDirectory)
    let rebuild = DispatcherRebuild(settings: try configuration.settings(catalogue: district.categories.map(\.code)))
    let livePath = configuration.dataDirectory + "/dispatcher.sqlite"
    let path = configuration.rebuildInto.isEmpty ? configuration.dataDirectory + "/dispatcher.rebuilt.sqlite" : configuration.rebuildInto
    guard !FileManager.default.fileExists(atPath: path) else {
        throw RebuildError(description: "\(path) already exists; move it away or choose another file with --rebuild-into")
    }
    try FileManager.default.createDirectory(
        atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
        withIntermediateDirectories: true
    )
    let store = try WorkerStore(path: path)
    try await Dispatcher.prepare(store)
    let requester = BusRequester(context: context, endpoint: configuration.bus.replay, credentials: configuration.bus.credentials)
    defer { Task { await requester.close() } }
    var summary = DispatcherRebuild.Summary()
    var cursor: UInt64 = 0
    var head: UInt64?
    let prefixes = ["incident.", Topic.prefix(forType: .gridModeChanged)]
    while true {
        let batch = try await requester.replay(after: cursor, prefixes: prefixes, limit: 5000)
        if head == nil {
            head = batch.head
            guard batch.tail <= 1 else {
                throw RebuildError(
                    description:
                        "the journal starts at sequence \(batch.tail): the events before it are gone, so the store cannot be rebuilt completely"
                )
            }
        }
        let events = batch.events.filter { $0.sequence <= head! }
        summary = try await store.withConnection { [summary] connection in
            var summary = summary
            try connection.transaction {
                for event in events { try rebuild.apply(event.bytes, on: connection, summary: &summary) }
            }
            return summary
        }
        cursor = batch.next
        progress(min(cursor, head!), head!)
        if batch.isComplete || cursor >= head! { break }
    }
    try await store.saveCursor(head ?? 0, for: Dispatcher.source)
    var differences: [String]?
    if FileManager.default.fileExists(atPath: livePath) {
        let live = try await WorkerStore(path: livePath).withConnection { try DispatcherRebuild.Snapshot.read($0) }
        let rebuilt = try await store.withConnection { try DispatcherRebuild.Snapshot.read($0) }
        differences = DispatcherRebuild.differences(live: live, rebuilt: rebuilt)
    }
    if summary.heldCount > 0 {
        logger.warning("events of cases whose earlier step is not in the journal were not applied", metadata: ["events": "\(summary.heldCount)"])
    }
    logger.notice("rebuilt from the journal", metadata: ["path": "\(path)", "events": "\(summary.events)", "cases": "\(summary.cases)"])
    return RebuildReport(path: path, head: head ?? 0, summary: summary, differences: differences)
}
