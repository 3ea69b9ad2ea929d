import Foundation
import GridBusClient
import GridDistrict
import GridJSON
import GridSchema
import GridStore
import Logging

// Registration and dispatch: a report becomes a case in its grid, assigned, or is rejected, merged or held for triage.
extension Dispatcher {
    /// `incident.reported` → registered and dispatched, rejected, merged, or held for triage.
    public func handle(_ busEvent: BusEvent) async throws { try await handle([busEvent]) }

    /// Several reports in one transaction (one fsync), each in its own savepoint: a report that
    /// fails is logged and left out without failing the others.
    public func handle(_ busEvents: [BusEvent]) async throws {
        var reports: [IncidentReported] = []
        for busEvent in busEvents where busEvent.topic.hasPrefix(Topic.prefix(forType: .incidentReported)) {
            do {
                reports.append(try busEvent.decode().payload(as: IncidentReported.self))
            } catch {
                logger.error(
                    "a report the dispatcher cannot read was skipped",
                    metadata: ["event.sequence": "\(busEvent.sequence)", "error": "\(error)"]
                )
            }
        }
        guard !reports.isEmpty else { return }
        let now = self.now()
        try await runtime.write { [self, reports] connection, outbox in
            for report in reports {
                if case .failure(let error) = try connection.savepoint(
                    "report",
                    { try register(report, at: now, connection: connection, outbox: outbox) }
                ) {
                    logger.error("a report could not be registered", metadata: ["incident": "\(report.incidentId)", "error": "\(error)"])
                }
            }
        }
    }

    /// Once per incident: a report heard again (a redelivery) finds its case made, and cases are
    /// never deleted, so the case is the report's record.
    private func register(_ report: IncidentReported, at now: Date, connection: any StoreConnection, outbox: OutboxWriter) throws {
        let district = self.district
        guard try DispatcherStore.load(report.incidentId, on: connection) == nil else { return }
        var item = DispatchCase(reported: report)
        guard let category = district.categoriesByCode[report.category] else {
            try emit(
                IncidentRejected(incidentId: item.id, reason: .invalid, note: "category \(report.category) is not in the catalogue"),
                for: &item,
                at: now,
                outbox
            )
            return try DispatcherStore.save(item, on: connection)
        }
        guard let grid = report.grid, district.gridsByID[grid] != nil else {
            // Outside every grid: held until an operator places it (docs/dispatcher.md, `place`).
            return try DispatcherStore.save(item, on: connection)
        }
        // A report near an open case of the same category, within the window, is that case again.
        if let location = report.location,
            let original = try DispatcherStore.openCases(
                category: category.code,
                since: report.reportedAt.addingTimeInterval(-settings.mergeWindow),
                near: location,
                meters: settings.mergeRadiusMeters,
                on: connection
            )
            .first(where: { candidate in
                !candidate.triage && candidate.id != item.id
                    && candidate.location.map { Self.meters(location, $0) <= settings.mergeRadiusMeters } ?? false
            })
        {
            try emit(IncidentMerged(incidentId: item.id, caseId: original.id), for: &item, at: now, outbox)
            return try DispatcherStore.save(item, on: connection)
        }
        try registerInGrid(&item, category: category, grid: grid, at: now, connection: connection, outbox: outbox)
        try DispatcherStore.save(item, on: connection)
    }

    /// Registers the case in its grid with its deadline, then dispatches it (or opens it as a
    /// micro-wish task). Used for reports and for placing triaged ones.
    func registerInGrid(
        _ item: inout DispatchCase,
        category: Category,
        grid: String,
        at now: Date,
        connection: any StoreConnection,
        outbox: OutboxWriter
    ) throws {
        let emergency = try isEmergency(grid: grid, on: connection)
        let limit = item.priority == .normal && !emergency ? category.normalLimit : category.urgentLimit
        let deadline = calendar.deadline(from: now, limit: limit, clock: emergency ? .natural : category.clock)
        try emit(
            IncidentRegistered(
                incidentId: item.id,
                category: category.code,
                grid: grid,
                priority: item.priority,
                deadline: deadline,
                emergency: emergency ? true : nil
            ),
            for: &item,
            at: now,
            outbox
        )
        if category.volunteer && !emergency {
            // A citizen micro-wish: an open task for the grid's volunteers, not an assignment;
            // unclaimed by the deadline, it is overdue and the community hears of it.
            return try emit(
                IncidentDispatched(
                    incidentId: item.id,
                    assignees: [],
                    role: "volunteer",
                    acknowledgeBy: deadline,
                    deadline: deadline,
                    policy: IncidentDispatched.openTask
                ),
                for: &item,
                at: now,
                outbox
            )
        }
        try dispatch(&item, category: category, grid: grid, at: now, connection: connection, outbox: outbox)
    }

    /// Assigns the case and publishes `incident.dispatched`; starts the acknowledgement timer.
    func dispatch(
        _ item: inout DispatchCase,
        category: Category,
        grid: String,
        at now: Date,
        excluding: Set<String> = [],
        connection: any StoreConnection,
        outbox: OutboxWriter
    ) throws {
        let candidates = district.members(of: grid).map(\.id).filter { !excluding.contains($0) }
        let load = try DispatcherStore.load(of: candidates, on: connection)
        var turns = try DispatcherStore.turns(on: connection)
        let request = AssignmentRequest(grid: grid, category: category, at: now, emergency: item.emergency, excluding: excluding)
        guard let assignment = assigner.assign(request, load: load, turns: &turns) else {
            let why = excluding.isEmpty ? "nobody on the roster of the grid" : "nobody on the roster of the grid but who returned it"
            logger.warning("\(why); the case waits registered", metadata: ["case": "\(item.id)", "grid": "\(grid)"])
            return
        }
        try DispatcherStore.saveTurns(turns, on: connection)
        let acknowledgeBy = now.addingTimeInterval(settings.escalation.pace(of: item).acknowledge)
        try emit(
            IncidentDispatched(
                incidentId: item.id,
                assignees: assignment.assignees.map(\.id),
                role: assignment.role.rawValue,
                acknowledgeBy: acknowledgeBy,
                deadline: item.deadline ?? acknowledgeBy,
                policy: assignment.policy
            ),
            for: &item,
            at: now,
            outbox
        )
    }

    /// Publishes the event and applies it to the case: the only way a case changes, so that the
    /// journal's events rebuild it exactly (`CaseProjection`, `DispatcherRebuild`).
    func emit<Event: CaseEvent>(_ payload: Event, for item: inout DispatchCase, at time: Date, _ outbox: OutboxWriter) throws {
        payload.apply(to: &item, at: time, rules: settings.escalation)
        item.emitted += 1
        try outbox.enqueue(
            TypedEvent(
                id: CaseStep.eventID(incident: item.id, step: item.emitted),
                source: Self.source,
                payload: payload,
                subject: item.id,
                grid: item.grid,
                time: time
            )
        )
    }
}
