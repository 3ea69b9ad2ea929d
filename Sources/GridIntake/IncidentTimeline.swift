import Foundation
import GridBusClient
import GridJSON
import GridSchema
import GridStore
import Logging

// Following the lifecycle: each incident's status and timeline from the dispatcher's events.
extension Intake {
    /// Applies `incident.*` events from the bus to the incidents they name (once per event), in
    /// transactions of ``followChunk`` events, each in its own savepoint: one that cannot be read
    /// or applied is logged and left out without failing the others.
    public func follow(_ busEvents: [BusEvent]) async throws {
        var events: [CloudEvent] = []
        for busEvent in busEvents {
            do { events.append(try busEvent.decode()) } catch {
                logger.error(
                    "a lifecycle event the intake cannot read was skipped",
                    metadata: ["event.sequence": "\(busEvent.sequence)", "error": "\(error)"]
                )
            }
        }
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

    private func apply(_ event: CloudEvent, at now: Date, on connection: any StoreConnection) throws {
        guard let (incidentID, change) = try Self.change(for: event) else { return }
        // Each event once. The dispatcher numbers a case's events, and an applied one is in the
        // timeline with its step: that entry is its record. Other events are recorded by id in
        // `lifecycle_seen` (a table keyed by random ids, where every insert lands on a page of its own).
        let step = event.source == "grid-dispatcher" ? CaseStep.number(ofEventID: event.id, incident: incidentID) : nil
        if step == nil, !(try IntakeStore.firstSight(of: "\(event.source) \(event.id)", on: connection)) { return }
        guard var incident = try IntakeStore.incident(id: incidentID, on: connection),
            step == nil || !incident.timeline.contains(where: { $0.step == step })
        else { return }
        let at = event.time.flatMap(RFC3339.parse) ?? now.wholeMilliseconds
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
        incident.timeline.insert(TimelineEntry(status: change.status, type: event.type, at: at, note: change.note, step: step), at: position)
        try IntakeStore.update(incident, gridChanged: incident.grid != gridBefore, on: connection)
        logger.debug("incident updated", metadata: ["incident": "\(incidentID)", "event.type": "\(event.type)"])
    }

    struct Change {
        var status: IncidentStatus?
        var deadline: Date?
        var grid: String?
        var note: String?
    }

    /// What a lifecycle event changes of its incident, read through its typed payload; nil for a
    /// type that is not about an incident's lifecycle.
    static func change(for event: CloudEvent) throws(PayloadError) -> (incident: String, change: Change)? {
        guard let type = event.eventType else { return nil }
        func read<Payload: IncidentPayload>(_: Payload.Type, _ change: (Payload) -> Change) throws(PayloadError) -> (String, Change) {
            let payload = try event.payload(as: Payload.self)
            return (payload.incidentId, change(payload))
        }
        switch type {
        case .incidentRegistered: return try read(IncidentRegistered.self) { Change(status: .registered, deadline: $0.deadline, grid: $0.grid) }
        case .incidentRejected: return try read(IncidentRejected.self) { Change(status: .rejected, note: $0.note ?? $0.reason.rawValue) }
        case .incidentMerged: return try read(IncidentMerged.self) { Change(status: .merged, note: "merged into \($0.caseId)") }
        case .incidentDispatched: return try read(IncidentDispatched.self) { Change(status: .dispatched, deadline: $0.deadline) }
        case .incidentAcknowledged: return try read(IncidentAcknowledged.self) { Change(status: .acknowledged, note: $0.note) }
        case .incidentStarted: return try read(IncidentStarted.self) { Change(status: .inProgress, note: $0.note) }
        case .incidentResumed: return try read(IncidentResumed.self) { Change(status: .inProgress, note: $0.note) }
        case .incidentSuspended: return try read(IncidentSuspended.self) { Change(status: .suspended, note: $0.note) }
        case .incidentReturned: return try read(IncidentReturned.self) { Change(status: .returned, note: $0.reason) }
        case .incidentExtended: return try read(IncidentExtended.self) { Change(deadline: $0.deadline, note: $0.reason) }
        case .incidentHandled: return try read(IncidentHandled.self) { Change(status: .handled, note: $0.note) }
        case .incidentVerified: return try read(IncidentVerified.self) { Change(status: $0.passed ? .verified : .rework, note: $0.note) }
        case .incidentReopened: return try read(IncidentReopened.self) { Change(status: .reopened, note: $0.reason) }
        case .incidentClosed: return try read(IncidentClosed.self) { _ in Change(status: .closed) }
        case .incidentEscalated: return try read(IncidentEscalated.self) { Change(note: $0.reason) }
        case .incidentOverdue: return try read(IncidentOverdue.self) { _ in Change(note: "overdue") }
        case .incidentReported, .notificationSent, .notificationFailed, .gridModeChanged, .busHeartbeat: return nil
        }
    }
}
