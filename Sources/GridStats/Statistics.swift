import Foundation
import GridBusClient
import GridDistrict
import GridJSON
import GridSchema
import GridStore
import Logging
import Synchronization

/// The statistics' core: folds `incident.*`, `notification.*` and `grid.mode.changed` into the
/// case records and the roll-ups, one transaction per batch; answers indicator queries from the
/// roll-ups. A rebuild runs the same `ingest` over the journal, so it ends with the same numbers.
public final class Statistics: Sendable {
    public struct Settings: Sendable {
        /// A dispatch within this many seconds of registration is timely.
        public var dispatchLimit: Double = 10 * 60
        /// Rankings leave out places with fewer cases than this behind the indicator.
        public var minimumSample = 10
        public var timeZone = TimeZone(identifier: "Asia/Shanghai")!
        public init() {}
    }

    let district: District
    let settings: Settings
    let runtime: WorkerRuntime
    let logger: Logger
    let now: @Sendable () -> Date
    let calendar: Calendar
    /// Events folded in so far (for /metrics), and listeners for the dashboard's live updates.
    let ingested = Atomic<Int>(0)
    let skipped = Atomic<Int>(0)
    let listeners = Mutex<[UUID: AsyncStream<String>.Continuation]>([:])

    public init(district: District, settings: Settings, runtime: WorkerRuntime, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.district = district
        self.settings = settings
        self.runtime = runtime
        self.logger = logger
        self.now = now
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = settings.timeZone
        self.calendar = calendar
    }

    /// The statistics' tables, created and changed by these (after the runtime's own).
    public static let migrations = StatsStore.migrations

    /// `2026-11-27`: the reporting day of a time, in the district's zone.
    public func day(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return Self.dayText(year: parts.year!, month: parts.month!, day: parts.day!)
    }

    /// `YYYY-MM-DD` (by hand: `String(format:)` cost the fold a tenth of its time).
    static func dayText(year: Int, month: Int, day: Int) -> String {
        var bytes = [UInt8](repeating: UInt8(ascii: "-"), count: 10)
        for (value, end, digits) in [(year, 4, 4), (month, 7, 2), (day, 10, 2)] {
            var rest = value
            for position in stride(from: end - 1, through: end - digits, by: -1) {
                bytes[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Ingesting

    struct RollupKey: Hashable {
        var day: String
        var grid: String
        var category: String
    }

    struct DurationKey: Hashable {
        var rollup: RollupKey
        var metric: String
        var bucket: Int
    }

    struct NoticeKey: Hashable {
        var day: String
        var channel: String
        var town: String
    }

    /// What one batch changes, summed before it is written.
    struct Batch {
        var cases: [String: CaseRecord] = [:]
        var rollups: [RollupKey: [Int64]] = [:]
        var members: [String: [String: [Int64]]] = [:]
        var durations: [DurationKey: Int64] = [:]
        var notices: [NoticeKey: (sent: Int64, failed: Int64)] = [:]
        var changed = Set<String>()
    }

    /// Most events the worker folds in one transaction: a replay batch of the bus. A transaction
    /// rewrites every roll-up page its cases touch, so a backlog folds faster in bigger ones.
    public static let foldBatch = 5000
    /// Events the live subscriber lets gather before folding them together (``DurableSubscriber``'s
    /// `catchUpEvery`; the bus's heartbeat folds the rest within a second): every event rewrites the
    /// same roll-up pages, so folding them one by one wrote those pages to the WAL again for each.
    public static let liveBatch = 500

    /// Folds a batch of journaled events in, in one transaction; an event that cannot be read is
    /// counted and skipped.
    public func ingest(_ events: [[UInt8]]) async throws {
        let decoded: [StatsEvent]
        if events.count >= 1000 {  // a backlog: read on both cores while the store waits for the fold
            async let firstHalf = decode(events[..<(events.count / 2)])
            let secondHalf = decode(events[(events.count / 2)...])
            decoded = await firstHalf + secondHalf
        } else {
            decoded = decode(events[...])
        }
        guard !decoded.isEmpty else { return }
        let changed = try await runtime.write(durable: false) { [self] connection, _ -> Set<String> in
            var batch = Batch()
            for event in decoded { try fold(event, into: &batch, connection: connection) }
            try write(batch, connection: connection)
            return batch.changed
        }
        ingested.add(decoded.count, ordering: .relaxed)
        if !changed.isEmpty { announce(changed) }
    }

    private func decode(_ events: ArraySlice<[UInt8]>) -> [StatsEvent] {
        events.compactMap { bytes in
            do { return try StatsEvent.decode(bytes) } catch {
                skipped.add(1, ordering: .relaxed)
                logger.warning("an event the statistics cannot read was skipped", metadata: ["error": "\(error)"])
                return nil
            }
        }
    }

    public func handle(_ busEvents: [BusEvent]) async throws { try await ingest(busEvents.map(\.bytes)) }

    private func fold(_ event: StatsEvent, into batch: inout Batch, connection: any StoreConnection) throws {
        // Stored records keep milliseconds: a time finer than that would make a case's numbers
        // depend on whether it was reloaded between two events (that is, on how events fell into batches).
        var event = event
        event.data.deadline = event.data.deadline.map(\.wholeMilliseconds)
        let time = (event.time ?? now()).wholeMilliseconds
        if event.type.hasPrefix("incident."), let id = event.incident {
            var record = try batch.cases[id] ?? StatsStore.loadCase(id, on: connection) ?? CaseRecord(id: id)
            let before = record
            record.receive(event, at: time, timeOf: { ($0.time ?? time).wholeMilliseconds })
            guard record != before else { return }  // a redelivery
            add(before, sign: -1, to: &batch)
            add(record, sign: 1, to: &batch)
            batch.cases[id] = record
            batch.changed.insert(record.grid ?? "")
            if event.type == EventType.incidentClosed.rawValue, let points = event.data.points {
                try StatsStore.award(points, for: id, at: time, on: connection)
            }
        } else if event.type == EventType.notificationSent.rawValue || event.type == EventType.notificationFailed.rawValue,
            let id = event.data.notificationId
        {
            let sent = event.type == EventType.notificationSent.rawValue
            let town = (event.grid ?? event.data.grid).flatMap { district.gridsByID[$0]?.town } ?? ""
            let key = NoticeKey(day: day(time), channel: event.data.channel ?? "", town: town)
            guard try StatsStore.firstSight(ofNotice: id, key: key, sent: sent, on: connection) else { return }
            var counts = batch.notices[key] ?? (0, 0)
            if sent { counts.sent += 1 } else { counts.failed += 1 }
            batch.notices[key] = counts
            batch.changed.insert("")
        } else if event.type == EventType.gridModeChanged.rawValue, let scope = event.data.scope, let target = event.data.target {
            let eventKey = "\(event.source) \(event.id)"
            guard try StatsStore.firstSight(ofModeChange: eventKey, on: connection) else { return }
            let place = "\(scope):\(target)"
            if event.data.mode == "emergency" {
                // Already on: the period goes on.
                guard
                    try StatsStore.startEmergency(
                        place: place,
                        event: eventKey,
                        at: time,
                        by: event.data.by ?? "",
                        reason: event.data.reason,
                        on: connection
                    )
                else { return }
            } else {
                try StatsStore.endEmergency(place: place, at: time, on: connection)
            }
            batch.changed.insert("")
        }
    }

    /// Adds (or with `sign` −1 takes away) a case's contribution, at its day, grid and category.
    private func add(_ record: CaseRecord, sign: Int64, to batch: inout Batch) {
        let contribution = record.contribution(dispatchLimit: settings.dispatchLimit)
        guard contribution != .none, let when = record.reportedAt ?? record.registeredAt else { return }
        let key = RollupKey(day: day(when), grid: record.grid ?? "", category: record.category ?? "")
        var sums = batch.rollups[key] ?? [Int64](repeating: 0, count: Measure.allCases.count)
        for index in sums.indices { sums[index] += sign * contribution.values[index] }
        batch.rollups[key] = sums
        for member in Set(record.firstAssignees) {
            var memberSums = batch.members[key.day, default: [:]][member] ?? [Int64](repeating: 0, count: Measure.allCases.count)
            for index in memberSums.indices { memberSums[index] += sign * contribution.values[index] }
            batch.members[key.day, default: [:]][member] = memberSums
        }
        if let bucket = contribution.acknowledgeBucket {
            batch.durations[DurationKey(rollup: key, metric: "acknowledge", bucket: bucket), default: 0] += sign
        }
        if let bucket = contribution.handleBucket { batch.durations[DurationKey(rollup: key, metric: "handle", bucket: bucket), default: 0] += sign }
    }

    private func write(_ batch: Batch, connection: any StoreConnection) throws {
        for record in batch.cases.values {
            try StatsStore.saveCase(record, day: (record.reportedAt ?? record.registeredAt).map(day) ?? "", on: connection)
        }
        for level in RollupLevel.all { try write(batch, level: level, connection: connection) }
        try StatsStore.addToMemberRollup(batch.members, on: connection)
        try StatsStore.addToNoticeRollup(
            batch.notices.map { ($0.key.day, $0.key.channel, $0.key.town, $0.value.sent, $0.value.failed) },
            on: connection
        )
    }

    /// The values of `columns` for a fine key: its day, grid and category, and the grid's community and town.
    private func values(_ key: RollupKey, _ columns: [String]) -> [String] {
        let place = district.gridsByID[key.grid]
        return columns.map { column in
            switch column {
            case "day": key.day
            case "grid": key.grid
            case "category": key.category
            case "community": place?.community ?? ""
            case "town": place?.town ?? ""
            default: preconditionFailure("a roll-up level names a column the fold does not know: \(column)")
            }
        }
    }

    /// The batch's sums and duration counts, summed up to `level` and added to its tables.
    private func write(_ batch: Batch, level: RollupLevel, connection: any StoreConnection) throws {
        let measures = Measure.allCases.map(\.column)
        var sums: [[String]: [Int64]] = [:]
        for (key, delta) in batch.rollups {
            let target = values(key, level.columns)
            var total = sums[target] ?? [Int64](repeating: 0, count: measures.count)
            for index in total.indices { total[index] += delta[index] }
            sums[target] = total
        }
        try StatsStore.addToRollup(level, sums, on: connection)
        var counts: [[String]: Int64] = [:]
        for (key, count) in batch.durations where count != 0 {
            counts[values(key.rollup, level.columns) + [key.metric, String(key.bucket)], default: 0] += count
        }
        try StatsStore.addToDurations(level, counts, on: connection)
    }

    // MARK: Live updates

    /// A stream of the grids whose numbers changed (`""`: the district as a whole), for SSE.
    public func updates() -> (UUID, AsyncStream<String>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(256))
        listeners.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in self?.listeners.withLock { _ = $0.removeValue(forKey: id) } }
        return (id, stream)
    }

    /// Ends every live stream (at shutdown: an open stream would otherwise hold the server up).
    public func finishUpdates() {
        for continuation in listeners.withLock({ Array($0.values) }) { continuation.finish() }
    }

    private func announce(_ grids: Set<String>) {
        let message = grids.sorted().joined(separator: ",")
        for continuation in listeners.withLock({ Array($0.values) }) { continuation.yield(message) }
    }

    var eventsIngested: Int { ingested.load(ordering: .relaxed) }
    var eventsSkipped: Int { skipped.load(ordering: .relaxed) }
}
