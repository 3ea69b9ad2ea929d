import CoreMetrics
import Foundation
import GridBusClient
import GridDistrict
import GridHTTP
import GridJSON
import GridMetrics
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

    enum Kind: String, CaseIterable {
        case created, replayed, conflict
    }

    var kind: Kind {
        switch self {
        case .created: .created
        case .replayed: .replayed
        case .conflict: .conflict
        }
    }
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

    /// Reports filed, by what became of them.
    let reports: [ReportOutcome.Kind: Counter]

    public init(district: District, runtime: WorkerRuntime, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.district = district
        self.runtime = runtime
        self.logger = logger
        self.now = now
        runtime.metrics.describe(Self.metricsHelp)
        reports = Dictionary(
            uniqueKeysWithValues: ReportOutcome.Kind.allCases.map {
                ($0, Counter(label: "gridbus_intake_reports_total", dimensions: [("outcome", $0.rawValue)], factory: runtime.metrics))
            }
        )
    }

    static let metricsHelp = [
        "gridbus_intake_reports_total":
            "Reports filed through either API, by outcome: created, replayed (a retry of one filed before), conflict (a key reused for another report)."
    ]

    /// Read at scrape time: the reports waiting for an operator to place them.
    public func metricsText() async throws -> String {
        let triage = try await runtime.read { try IntakeStore.count(status: .triage, on: $0) }
        var text = PrometheusText()
        text.family(
            "gridbus_intake_triage_incidents",
            "gauge",
            "Reports outside every grid, waiting for an operator to place them.",
            [([], Double(triage))]
        )
        return text.text
    }

    // MARK: Filing

    public func report(_ input: ReportInput, client: String, idempotencyKey: String?) async throws -> ReportOutcome {
        let now = self.now().wholeMilliseconds
        // The grid: as reported, or from the position; outside every grid, the report waits in triage.
        let grid = input.grid ?? input.location.flatMap { district.grid(at: $0)?.id }
        let fingerprint = Self.fingerprint(input)
        let outcome = try await runtime.write { connection, outbox -> ReportOutcome in
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
        reports[outcome.kind]?.increment()
        return outcome
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
