import Foundation
import GridBusClient
import GridDistrict
import GridJSON
import GridSchema
import GridSecurity
import GridStore
import Logging
import Synchronization

// Hearing events: what each event of a case tells the notifier, and the notices it plans.
extension Notifier {
    /// What hearing a batch of events came to.
    struct Heard: Sendable {
        /// Notices planned to be sent (most events only update what is known of a case).
        var planned: Int
        /// Messages claimed in the same commit, to be sent now.
        var claimed: [Batch]
    }

    /// Several events in one transaction, each in its own savepoint: one that cannot be read or
    /// planned is logged and left out without failing the others. Returns how many notices were
    /// planned to be sent.
    @discardableResult
    public func handle(_ busEvents: [BusEvent]) async throws -> Int {
        try await handle(busEvents, claimingUpTo: 0).planned
    }

    /// As ``handle(_:)``, and when notices were planned, also claims up to `limit` messages due now
    /// in the same transaction, which is then synced (a claimed message is on disk before it is
    /// sent). An urgent notice then leaves after one synced commit instead of two, without a trip
    /// through the delivery loop.
    func handle(_ busEvents: [BusEvent], claimingUpTo limit: Int) async throws -> Heard {
        var events: [CloudEvent] = []
        for busEvent in busEvents {
            do { events.append(try CloudEvent.decode(busEvent.bytes)) } catch {
                logger.error(
                    "an event the notifier cannot read was skipped",
                    metadata: ["event.sequence": "\(busEvent.sequence)", "error": "\(error)"]
                )
            }
        }
        guard !events.isEmpty else { return Heard(planned: 0, claimed: []) }
        let now = self.now()
        // Not synced on its own: what is planned here is derived from the bus and planned again
        // (under the same keys) after a power loss; a commit that publishes or claims is synced.
        return try await runtime.write(durable: false) { [self, events] connection, outbox in
            var planned = 0
            for event in events {
                switch try connection.savepoint("event", { try hear(event, at: now, connection: connection, outbox: outbox) }) {
                case .success(let count): planned += count
                case .failure(let error):
                    logger.error("an event could not be planned", metadata: ["event": "\(event.id)", "type": "\(event.type)", "error": "\(error)"])
                }
            }
            guard planned > 0, limit > 0 else { return Heard(planned: planned, claimed: []) }
            let claimed = try claim(at: now, limit: limit, connection: connection)
            if !claimed.isEmpty { outbox.syncOnCommit() }
            return Heard(planned: planned, claimed: claimed)
        }
    }

    /// Returns the number of notices planned to be sent.
    private func hear(_ event: CloudEvent, at now: Date, connection: any StoreConnection, outbox: OutboxWriter) throws -> Int {
        let payload = try event.typedPayload()
        let incidentId = (payload as? any IncidentPayload)?.incidentId ?? event.subject
        var facts = try incidentId.flatMap { try NotifierStore.incident($0, on: connection) }
        // The dispatcher numbers a case's events, and the bus may journal a retried one after a later
        // one (docs/events.md, "Order"). A step at or before one already heard tells of a state the
        // case has left (a dispatch already acknowledged): it notifies no one and starts no
        // reminder; a late registration only fills in what is still unknown of the case.
        let step = event.source == "grid-dispatcher" ? incidentId.flatMap { CaseStep.number(ofEventID: event.id, incident: $0) } : nil
        if let step, var known = facts, let last = known.step, step <= last {
            if let registered = payload as? IncidentRegistered {
                known.grid = known.grid ?? registered.grid
                known.category = known.category ?? registered.category
                known.priority = known.priority ?? registered.priority
                known.deadline = known.deadline ?? RFC3339.format(registered.deadline)
                known.emergency = known.emergency || registered.emergency == true
                try NotifierStore.save(known, on: connection)
            }
            logger.debug("an earlier step of a case came late and was passed over", metadata: ["event": "\(event.id)", "case.step": "\(last)"])
            return 0
        }
        // A numbered step of a case never heard reported (the notifier started after retention
        // removed the report, or was given a journal's later part): keep the case from here on,
        // so that its assignees get reminders and a step that comes late is still recognised.
        if facts == nil, step != nil, let incidentId { facts = .unreported(incidentId, grid: event.grid) }
        // Keep what later notices need to know about the incident.
        switch payload {
        case let report as IncidentReported:
            guard facts == nil else { return 0 }
            facts = NotifierStore.IncidentFacts(
                id: report.incidentId,
                grid: report.grid,
                category: report.category,
                priority: report.priority,
                emergency: false,
                reporter: report.reporter,
                assignees: [],
                acknowledgeBy: nil,
                deadline: nil
            )
        case let registered as IncidentRegistered:
            facts = facts ?? .unreported(registered.incidentId, grid: registered.grid)
            facts!.grid = registered.grid
            facts!.category = registered.category
            facts!.priority = registered.priority
            facts!.emergency = registered.emergency ?? false
            facts!.deadline = RFC3339.format(registered.deadline)
        case let dispatched as IncidentDispatched:
            guard facts != nil else { break }
            facts!.assignees = dispatched.assignees
            facts!.acknowledgeBy = RFC3339.format(dispatched.acknowledgeBy)
            facts!.deadline = RFC3339.format(dispatched.deadline)
            if dispatched.policy == "claimed" || dispatched.assignees.isEmpty {
                try NotifierStore.cancelReminders(incident: dispatched.incidentId, on: connection)
            } else {
                try NotifierStore.remind(
                    incident: dispatched.incidentId,
                    recipients: dispatched.assignees,
                    dispatch: event.id,
                    next: now.addingTimeInterval(rules.repeatInterval).millisecondsSince1970,
                    on: connection
                )
            }
        case let extended as IncidentExtended:
            facts?.deadline = RFC3339.format(extended.deadline)
        case is IncidentAcknowledged, is IncidentReturned, is IncidentClosed, is IncidentMerged, is IncidentRejected, is IncidentHandled,
            is IncidentSuspended:
            if let incidentId { try NotifierStore.cancelReminders(incident: incidentId, on: connection) }
        case let change as GridModeChanged:
            try NotifierStore.setMode(place: "\(change.scope.rawValue):\(change.target)", emergency: change.mode == .emergency, on: connection)
        default:
            break
        }
        if let step { facts?.step = step }
        if let facts { try NotifierStore.save(facts, on: connection) }
        let modeChange = payload as? GridModeChanged
        let grid = facts?.grid ?? (modeChange?.scope == .grid ? modeChange?.target : nil)
        var told = Set<String>()
        var planned = 0
        for route in rules.routes(for: event.type, priority: facts?.priority, category: facts?.category, grid: grid) {
            for recipient in try recipients(route.to, payload: payload, facts: facts) where told.insert(recipient.id).inserted {
                let notice = Notice(
                    type: event.type,
                    state: event.id,
                    incidentId: incidentId,
                    facts: facts,
                    grid: grid,
                    details: Self.details(of: event),
                    urgent: isUrgent(payload, facts: facts)
                )
                if try plan(notice, for: recipient, at: now, connection: connection, outbox: outbox) { planned += 1 }
            }
        }
        return planned
    }

    /// What a notice is about, before it is addressed.
    struct Notice {
        var type: String
        /// The state change it tells of: the event's id (or the reminder's number).
        var state: String
        var incidentId: String?
        var facts: NotifierStore.IncidentFacts?
        /// The grid it concerns: the case's, or the one a mode change names.
        var grid: String?
        /// What its message may say: the event's fields, as the templates read them (`{note}`, `{reason}`).
        var details: [String: String]
        var urgent: Bool
    }

    /// The event's fields that a template can name: its payload's strings, numbers and flags.
    static func details(of event: CloudEvent) -> [String: String] {
        guard case .object(let data)? = event.data else { return [:] }
        var details: [String: String] = [:]
        for (key, value) in data {
            switch value {
            case .string(let text): details[key] = text
            case .integer(let number): details[key] = String(number)
            case .bool(let flag): details[key] = String(flag)
            default: break
            }
        }
        return details
    }

    /// Urgent and emergency priorities, cases registered in emergency mode, and switches into
    /// emergency mode go out at once, in quiet hours too, and are never muted.
    func isUrgent(_ payload: any EventPayload, facts: NotifierStore.IncidentFacts?) -> Bool {
        if let change = payload as? GridModeChanged { return change.mode == .emergency }
        return (facts?.priority ?? .normal) != .normal || facts?.emergency == true
    }
}
