import Foundation
import GridBusClient
import GridDistrict
import GridHTTP
import GridJSON
import GridSchema
import GridStore
import Logging

/// What happened to a report.
public enum ReportOutcome: Sendable {
    /// Stored with its `incident.reported` event, in one transaction: it will reach the bus.
    /// `json` is the incident as stored, ready to send.
    case created(Incident, json: Data)
    /// A retry (same idempotency key or external id, same request): the incident filed before.
    case replayed(Incident, json: Data)
    /// The idempotency key or external id was used before for a different request.
    case conflict(Incident, field: String)
}

/// The intake's core, behind both HTTP faces: files reports (persisting before answering), reads
/// them back, and follows their lifecycle from the bus.
public final class Intake: Sendable {
    public let district: District
    public static let source = "grid-intake"
    /// Lifecycle events the timeline follower lets gather before applying them together
    /// (``DurableSubscriber``'s `catchUpEvery`; the bus's heartbeat takes the rest within a second):
    /// about 0.1 s at 200 reports/s, and a few transactions per batch instead of one per event.
    public static let followBatch = 100
    /// Lifecycle events applied per transaction. The reports' synced commits share the store's
    /// connection and wait for the transaction ahead of them: a catch-up of 100 to 500 events in
    /// one transaction held every report arriving meanwhile for as long as all of them took.
    static let followChunk = 16
    let runtime: WorkerRuntime
    let now: @Sendable () -> Date
    let logger: Logger

    /// The intake's tables, created and changed by these (after the runtime's own).
    public static let migrations = IntakeStore.migrations

    public init(district: District, runtime: WorkerRuntime, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.district = district
        self.runtime = runtime
        self.logger = logger
        self.now = now
    }

    // MARK: Filing

    public func report(_ input: ReportInput, client: String, idempotencyKey: String?) async throws -> ReportOutcome {
        let now = self.now().wholeMilliseconds
        // The grid: as reported, or from the position; outside every grid, the report waits in triage.
        let grid = input.grid ?? input.location.flatMap { district.grid(at: $0)?.id }
        let fingerprint = Self.fingerprint(input)
        return try await runtime.write { connection, outbox in
            if let previous = try IntakeStore.existing(client: client, idempotencyKey: idempotencyKey, externalID: input.externalID, on: connection) {
                guard previous.fingerprint == fingerprint else { return .conflict(previous.incident, field: previous.field) }
                return .replayed(previous.incident, json: previous.json)
            }
            // Issued inside the transaction: the largest id cannot change before this one is stored.
            let id = IncidentID.next(at: now, after: try IntakeStore.largestID(on: connection))
            let (incident, event) = Self.filing(input, id: id, client: client, grid: grid, at: now)
            let json = try IntakeStore.insert(incident, idempotencyKey: idempotencyKey, fingerprint: fingerprint, on: connection)
            try outbox.enqueue(event)
            return .created(incident, json: json)
        }
    }

    /// A new report's incident and its `incident.reported` event.
    private static func filing(
        _ input: ReportInput,
        id: String,
        client: String,
        grid: String?,
        at now: Date
    ) -> (Incident, TypedEvent<IncidentReported>) {
        let status: IncidentStatus = grid == nil ? .triage : .reported
        let note =
            grid != nil
            ? nil
            : input.location != nil ? "outside every grid: waiting for manual triage" : "no grid and no position: waiting for manual triage"
        let incident = Incident(
            id: id,
            token: "t-" + id.dropFirst(IncidentID.prefix.count),
            status: status,
            category: input.category.code,
            serviceCode: input.category.serviceCode,
            description: input.description,
            priority: input.priority,
            channel: input.channel,
            grid: grid,
            location: input.location,
            address: input.address,
            reporter: input.reporter,
            mediaUrls: input.mediaURLs,
            externalId: input.externalID,
            attributes: input.attributes,
            client: client,
            agency: input.category.responsibleUnit,
            reportedAt: input.reportedAt ?? now,
            createdAt: now,
            updatedAt: now,
            deadline: nil,
            statusNotes: note,
            timeline: [TimelineEntry(status: status, type: EventType.incidentReported.rawValue, at: now, note: note)]
        )
        let event = TypedEvent(
            id: "reported-\(id)",
            source: source,
            payload: IncidentReported(
                incidentId: id,
                category: input.category.code,
                description: input.description,
                priority: input.priority,
                channel: input.channel,
                reportedAt: incident.reportedAt,
                grid: grid,
                location: input.location,
                address: input.address,
                reporter: input.reporter,
                mediaUrls: input.mediaURLs.isEmpty ? nil : input.mediaURLs,
                externalId: input.externalID
            ),
            subject: id,
            grid: grid,
            time: now
        )
        return (incident, event)
    }

    // MARK: Reading

    public func incident(id: String) async throws -> Incident? {
        try await runtime.read { try IntakeStore.incident(id: id, on: $0) }
    }

    public func incident(token: String) async throws -> Incident? {
        try await runtime.read { try IntakeStore.incident(token: token, on: $0) }
    }

    func list(_ query: IntakeStore.Query) async throws -> (incidents: [Incident], next: Int64?) {
        try await runtime.read { try IntakeStore.list(query, on: $0) }
    }

    // MARK: Following the lifecycle

    /// Applies `incident.*` events from the bus to the incidents they name (once per event), in
    /// transactions of ``followChunk`` events, each in its own savepoint: one that cannot be
    /// applied is logged and left out without failing the others.
    public func follow(_ busEvents: [BusEvent]) async throws {
        let events = busEvents.compactMap { try? $0.decode() }
        let now = now()
        for start in stride(from: 0, to: events.count, by: Self.followChunk) {
            let chunk = events[start..<min(start + Self.followChunk, events.count)]
            // Not synced on its own: the timeline is derived from the bus and heard again after a power loss.
            try await runtime.write(durable: false) { [self] connection, _ in
                for event in chunk {
                    if case .failure(let error) = try connection.savepoint("event", { try apply(event, at: now, on: connection) }) {
                        logger.error(
                            "an event could not be applied to its incident",
                            metadata: ["event": "\(event.id)", "type": "\(event.type)", "error": "\(error)"]
                        )
                    }
                }
            }
        }
    }

    private func apply(_ event: CloudEvent, at now: Date, on connection: SQLiteConnection) throws {
        guard let type = event.eventType, type != .incidentReported, case .object(let data)? = event.data,
            let incidentID = data["incidentId"]?.stringValue
        else { return }
        // Each event once. The dispatcher numbers a case's events, and an applied one is in the
        // timeline with its step: that entry is its record. Other events are recorded by id in
        // `lifecycle_seen` (a table keyed by random ids, where every insert lands on a page of its own).
        let step = event.source == "grid-dispatcher" ? CaseStep.number(ofEventID: event.id, incident: incidentID) : nil
        if step == nil, !(try IntakeStore.firstSight(of: "\(event.source) \(event.id)", on: connection)) { return }
        guard var incident = try IntakeStore.incident(id: incidentID, on: connection),
            step == nil || !incident.timeline.contains(where: { $0.step == step })
        else { return }
        let at = event.time.flatMap(RFC3339.parse) ?? now.wholeMilliseconds
        let change = Self.change(for: type, data: data)
        // In the dispatcher's step order, whatever order the bus journaled them in (a publish
        // retried after a NACK can land after a later one) and whatever the clocks say: an
        // earlier step arriving late joins the timeline but does not set the status.
        let position = step.flatMap { step in incident.timeline.firstIndex { ($0.step ?? 0) > step } } ?? incident.timeline.count
        if position == incident.timeline.count {
            if let status = change.status { incident.status = status }
            if let deadline = change.deadline { incident.deadline = deadline }
            if let note = change.note { incident.statusNotes = note }
        }
        let gridBefore = incident.grid
        if let grid = change.grid, incident.grid == nil { incident.grid = grid }
        incident.updatedAt = max(incident.updatedAt, at)
        incident.timeline.insert(TimelineEntry(status: change.status, type: type.rawValue, at: at, note: change.note, step: step), at: position)
        try IntakeStore.update(incident, gridChanged: incident.grid != gridBefore, on: connection)
        logger.debug("incident updated", metadata: ["incident": "\(incidentID)", "event.type": "\(type.rawValue)"])
    }

    struct Change {
        var status: IncidentStatus?
        var deadline: Date?
        var grid: String?
        var note: String?
    }

    static func change(for type: EventType, data: [String: JSONValue]) -> Change {
        let note = data["note"]?.stringValue ?? data["reason"]?.stringValue
        let deadline = data["deadline"]?.stringValue.flatMap(RFC3339.parse)
        switch type {
        case .incidentRegistered: return Change(status: .registered, deadline: deadline, grid: data["grid"]?.stringValue)
        case .incidentRejected: return Change(status: .rejected, note: note)
        case .incidentMerged: return Change(status: .merged, note: data["caseId"]?.stringValue.map { "merged into \($0)" })
        case .incidentDispatched: return Change(status: .dispatched, deadline: deadline)
        case .incidentAcknowledged: return Change(status: .acknowledged, note: note)
        case .incidentStarted, .incidentResumed: return Change(status: .inProgress, note: note)
        case .incidentReturned: return Change(status: .returned, note: note)
        case .incidentSuspended: return Change(status: .suspended, note: note)
        case .incidentExtended: return Change(deadline: deadline, note: note)
        case .incidentHandled: return Change(status: .handled, note: note)
        case .incidentVerified:
            let passed = data["passed"].map { $0 == .bool(true) } ?? true
            return Change(status: passed ? .verified : .rework, note: note)
        case .incidentReopened: return Change(status: .reopened, note: note)
        case .incidentClosed: return Change(status: .closed, note: note)
        case .incidentEscalated: return Change(note: note)
        case .incidentOverdue: return Change(note: "overdue")
        default: return Change()
        }
    }

    // MARK: Helpers

    /// A stable fingerprint of a request (FNV-1a over its fields, each followed by a separator), to
    /// tell a retry from a different request that reuses an idempotency key.
    static func fingerprint(_ input: ReportInput) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ text: String?) {
            for byte in (text ?? "\u{0}").utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            hash ^= 0x1F
            hash = hash &* 0x0000_0100_0000_01B3
        }
        mix(input.category.code)
        mix(input.description)
        mix(input.priority.rawValue)
        mix(input.channel.rawValue)
        mix(input.grid)
        mix(input.address)
        mix(input.externalID)
        mix(input.location.map { "\($0.latitude),\($0.longitude)" })
        mix(input.reporter.map { "\($0.name ?? "")|\($0.phone ?? "")|\($0.wantsUpdates)" })
        input.mediaURLs.forEach(mix)
        mix(input.reportedAt.map(RFC3339.format))
        for (key, value) in input.attributes.sorted(by: { $0.key < $1.key }) {
            mix(key)
            mix(value)
        }
        return String(hash, radix: 16)
    }
}
