import Foundation
import GridBusClient
import GridDistrict
import GridJSON
import GridSchema
import GridStore
import Logging

/// Time limits, escalation and merging (docs/dispatcher.md).
public struct DispatchSettings: Sendable {
    /// Acknowledgement limits, reminder intervals and ladders per category and priority; in emergency
    /// mode every handling limit is the category's urgent one on natural time, with the
    /// `emergencyMode` pace.
    public var escalation = EscalationRules()
    /// Days after closing during which a case may be reopened.
    public var reopenDays: Double = 7
    /// Points a volunteer earns for closing a micro-wish task.
    public var volunteerPoints = 10
    /// Reports of one category this close in space and time are one case (the later ones merge).
    public var mergeRadiusMeters: Double = 50
    public var mergeWindow: Double = 3600
    public init() {}
}

/// What a handler sends with an action.
public struct ActionInput: Sendable {
    public var by: String
    public var note: String?
    public var reason: String?
    public var photoURLs: [String]
    public var deadline: Date?
    /// The grid an operator places a triaged report in.
    public var grid: String?
    public init(by: String, note: String? = nil, reason: String? = nil, photoURLs: [String] = [], deadline: Date? = nil, grid: String? = nil) {
        self.by = by
        self.grid = grid
        self.note = note
        self.reason = reason
        self.photoURLs = photoURLs
        self.deadline = deadline
    }
}

public enum ActOutcome: Sendable {
    case done(DispatchCase)
    case illegal(IllegalAction)
    case notFound
    case invalid(FieldError)
}

/// The dispatcher's core: registers and dispatches reported incidents, applies handlers' actions
/// through the lifecycle table, and fires due timers (escalation, reminders, overdue). Every change
/// and the events it publishes commit together; every input is idempotent by its event id.
public final class Dispatcher: Sendable {
    public static let source = "grid-dispatcher"
    /// Who may claim a micro-wish: the grid's resident and part-time members (its volunteers).
    static let volunteerRoles: Set<Member.Role> = [.residentMember, .partTimeMember]

    let district: District
    let assigner: Assigner
    let calendar: WorkCalendar
    let settings: DispatchSettings
    let runtime: WorkerRuntime
    let now: @Sendable () -> Date
    let logger: Logger

    public init(
        district: District,
        assigner: Assigner,
        calendar: WorkCalendar,
        settings: DispatchSettings,
        runtime: WorkerRuntime,
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.district = district
        self.assigner = assigner
        self.calendar = calendar
        self.settings = settings
        self.runtime = runtime
        self.logger = logger
        // Event times carry milliseconds: a case computed from the clock then equals one rebuilt from
        // the journal.
        self.now = { now().wholeMilliseconds }
    }

    /// The dispatcher's tables, created and changed by these (after the runtime's own).
    public static let migrations = DispatcherStore.migrations

    /// Forgets the request keys older than `window` (docs/dispatcher.md, `requests.idempotency-window`).
    public func requestKeyRetention(window: Double) -> RetentionService {
        RetentionService(what: "request keys", rows: DispatcherStore.agedRequestKeys, maxAge: window, store: runtime.store, now: now, logger: logger)
    }

    public func get(_ id: String) async throws -> DispatchCase? {
        try await runtime.read { try DispatcherStore.load(id, on: $0) }
    }

    // MARK: Registration and dispatch

    /// `incident.reported` → registered and dispatched, rejected, merged, or held for triage.
    public func handle(_ busEvent: BusEvent) async throws { try await handle([busEvent]) }

    /// Several reports in one transaction (one fsync), each in its own savepoint: a report that
    /// fails is logged and left out without failing the others.
    public func handle(_ busEvents: [BusEvent]) async throws {
        var reports: [IncidentReported] = []
        for busEvent in busEvents where busEvent.topic.hasPrefix(Topic.prefix(forType: .incidentReported)) {
            // One decoding pass straight into the payload (CloudEvent, then payload(as:), costs three).
            do {
                let envelope = try Self.reportDecoder.decode(ReportEnvelope.self, from: busEvent.bytes)
                guard envelope.data.schemaVersion <= IncidentReported.currentSchemaVersion else {
                    throw PayloadError.unsupportedSchemaVersion(
                        type: envelope.type,
                        found: envelope.data.schemaVersion,
                        supported: IncidentReported.currentSchemaVersion
                    )
                }
                reports.append(envelope.data)
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

    /// The parts of an `incident.reported` event the dispatcher reads.
    private struct ReportEnvelope: Decodable {
        let type: String
        let data: IncidentReported
    }

    private static let reportDecoder = JSONTreeDecoder()

    /// Once per incident: a report heard again (a redelivery) finds its case made, and cases are
    /// never deleted, so the case is the report's record.
    private func register(_ report: IncidentReported, at now: Date, connection: SQLiteConnection, outbox: OutboxWriter) throws {
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
    private func registerInGrid(
        _ item: inout DispatchCase,
        category: Category,
        grid: String,
        at now: Date,
        connection: SQLiteConnection,
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
        connection: SQLiteConnection,
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

    // MARK: Actions

    /// A handler's or operator's action, through the lifecycle table; idempotent by `requestKey`
    /// when given (a retried request answers with the case as it is).
    public func act(_ id: String, _ action: CaseAction, _ input: ActionInput, requestKey: String? = nil) async throws -> ActOutcome {
        let now = self.now()
        let district = self.district
        return try await runtime.write { [self] connection, outbox -> ActOutcome in
            guard var item = try DispatcherStore.load(id, on: connection) else { return .notFound }
            if let requestKey, !(try DispatcherStore.firstTime("request \(id) \(requestKey)", at: now, on: connection)) { return .done(item) }
            do throws(IllegalAction) { _ = try Lifecycle.apply(action, to: item.state) } catch { return .illegal(error) }
            if action == .reopen, let closedAt = item.closedAt, now.timeIntervalSince(closedAt) > settings.reopenDays * 86400 {
                return .invalid(FieldError("action", "closed more than \(Int(settings.reopenDays)) days ago; it can no longer be reopened"))
            }
            // Each action emits its events; the events move the case (CaseProjection).
            switch action {
            case .acknowledge:
                try emit(IncidentAcknowledged(incidentId: id, by: input.by, note: input.note), for: &item, at: now, outbox)
            case .start:
                try emit(IncidentStarted(incidentId: id, by: input.by, note: input.note), for: &item, at: now, outbox)
            case .handle:
                guard let note = input.note, !note.isEmpty else { return .invalid(FieldError("note", "say what was done")) }
                try emit(
                    IncidentHandled(incidentId: id, by: input.by, note: note, photoUrls: input.photoURLs.isEmpty ? nil : input.photoURLs),
                    for: &item,
                    at: now,
                    outbox
                )
            case .verifyPass, .verifyFail:
                try emit(IncidentVerified(incidentId: id, by: input.by, passed: action == .verifyPass, note: input.note), for: &item, at: now, outbox)
            case .claim:
                guard item.role == "volunteer", item.assignees.isEmpty else {
                    return .illegal(
                        IllegalAction(state: item.state, action: action, allowed: Lifecycle.allowed(in: item.state).filter { $0 != .claim })
                    )
                }
                guard let grid = item.grid, district.members(of: grid).contains(where: { $0.id == input.by && Self.volunteerRoles.contains($0.role) })
                else {
                    return .invalid(FieldError("by", "'\(input.by)' is not a volunteer (resident or part-time member) of the grid"))
                }
                try emit(
                    IncidentDispatched(
                        incidentId: id,
                        assignees: [input.by],
                        role: "volunteer",
                        acknowledgeBy: now,
                        deadline: item.deadline ?? now,
                        policy: IncidentDispatched.claimed
                    ),
                    for: &item,
                    at: now,
                    outbox
                )
            case .close:
                let onTime = item.deadline.map { now <= $0 } ?? true
                let points = item.role == "volunteer" ? Dictionary(uniqueKeysWithValues: item.assignees.map { ($0, settings.volunteerPoints) }) : nil
                try emit(IncidentClosed(incidentId: id, by: input.by, onTime: onTime, points: points), for: &item, at: now, outbox)
            case .reopen:
                guard let reason = input.reason, !reason.isEmpty else { return .invalid(FieldError("reason", "say why it is reopened")) }
                try emit(IncidentReopened(incidentId: id, by: input.by, reason: reason), for: &item, at: now, outbox)
            case .suspend:
                try emit(IncidentSuspended(incidentId: id, by: input.by, note: input.note), for: &item, at: now, outbox)
            case .resume:
                try emit(IncidentResumed(incidentId: id, by: input.by, note: input.note), for: &item, at: now, outbox)
            case .extend:
                guard let deadline = input.deadline, deadline > (item.deadline ?? now) else {
                    return .invalid(FieldError("deadline", "a new deadline later than the current one is required"))
                }
                try emit(IncidentExtended(incidentId: id, by: input.by, deadline: deadline, reason: input.reason ?? ""), for: &item, at: now, outbox)
            case .returnAsWronglyDispatched:
                guard let reason = input.reason, !reason.isEmpty else { return .invalid(FieldError("reason", "say why it is not yours")) }
                // Not theirs: whoever returned it, or, returned on their behalf, everyone it was with.
                // (In emergency mode a case is with the whole roster; one member's return leaves it with the rest.)
                let excluded: Set<String> = item.assignees.contains(input.by) ? [input.by] : Set(item.assignees)
                try emit(IncidentReturned(incidentId: id, by: input.by, reason: reason), for: &item, at: now, outbox)
                // Dispatched again at once, to someone else.
                if let grid = item.grid, let category = district.categoriesByCode[item.category] {
                    try dispatch(&item, category: category, grid: grid, at: now, excluding: excluded, connection: connection, outbox: outbox)
                }
            case .place:
                guard item.triage else { return .illegal(IllegalAction(state: item.state, action: action, allowed: [])) }
                guard let grid = input.grid, district.gridsByID[grid] != nil else {
                    return .invalid(FieldError("grid", "'\(input.grid ?? "")' is not a grid of the district"))
                }
                guard let category = district.categoriesByCode[item.category] else { return .invalid(FieldError("category", "unknown category")) }
                try registerInGrid(&item, category: category, grid: grid, at: now, connection: connection, outbox: outbox)
            case .register, .reject, .merge, .dispatch:
                return .invalid(FieldError("action", "'\(action.rawValue)' is the dispatcher's own step, not a handler's action"))
            }
            try DispatcherStore.save(item, on: connection)
            return .done(item)
        }
    }

    // MARK: Emergency mode

    public struct ModeChange: Sendable, Encodable {
        public let scope: String
        public let target: String
        public let mode: String
        public let openCases: Int
        /// What happens to the cases already open: the policy applies to new incidents only.
        public let note: String
    }

    /// Switches a grid, community, town or the district to emergency mode or back, and publishes
    /// `grid.mode.changed`. New incidents there follow the emergency policy (everyone on the roster,
    /// urgent limits on natural time, faster escalation); open cases keep what they have.
    public func setMode(
        scope: GridModeChanged.Scope,
        target: String,
        mode: GridModeChanged.Mode,
        by: String,
        reason: String?
    ) async throws
        -> Result<ModeChange, FieldError>
    {
        let known: Bool
        switch scope {
        case .grid: known = district.gridsByID[target] != nil
        case .community: known = district.grids.contains { $0.community == target }
        case .town: known = district.grids.contains { $0.town == target }
        case .district: known = district.grids.contains { $0.district == target }
        }
        guard known else { return .failure(FieldError("target", "no \(scope.rawValue) '\(target)' in the district")) }
        let now = self.now()
        return .success(
            try await runtime.write { connection, outbox in
                try DispatcherStore.setMode(scope: scope.rawValue, target: target, emergency: mode == .emergency, by: by, at: now, on: connection)
                try outbox.enqueue(
                    TypedEvent(
                        id: "mode-\(scope.rawValue)-\(target)-\(now.millisecondsSince1970)",
                        source: Self.source,
                        payload: GridModeChanged(scope: scope, target: target, mode: mode, by: by, reason: reason),
                        grid: scope == .grid ? target : nil,
                        time: now
                    )
                )
                let open = try DispatcherStore.openCount(on: connection)
                let note =
                    mode == .emergency
                    ? "new incidents here go to everyone on the roster, with urgent limits on natural time and reminders every \(Int(self.settings.escalation.emergencyMode.remind))s; the \(open) open cases keep their assignees and limits"
                    : "new incidents here follow the normal policy again; the \(open) open cases keep their assignees and limits"
                return ModeChange(scope: scope.rawValue, target: target, mode: mode.rawValue, openCases: open, note: note)
            }
        )
    }

    func isEmergency(grid: String, on connection: SQLiteConnection) throws -> Bool {
        let places = try DispatcherStore.emergencies(on: connection)
        guard !places.isEmpty, let place = district.gridsByID[grid] else { return false }
        return places.contains("grid:\(grid)") || places.contains("community:\(place.community)") || places.contains("town:\(place.town)")
            || places.contains("district:\(place.district)")
    }

    // MARK: Timers

    /// Fires every timer due at the injected clock's now: escalation when nobody acknowledged,
    /// overdue and escalation when the deadline passed, then reminders at the priority's interval.
    /// Timers live in the store, so a restart resumes them exactly where they were.
    @discardableResult
    public func sweep() async throws -> Int {
        let now = self.now()
        let district = self.district
        return try await runtime.write { [self] connection, outbox -> Int in
            let due = try DispatcherStore.due(at: now, limit: 500, on: connection)
            for var item in due {
                guard let timer = item.timer, item.isOpen else {
                    item.timer = nil
                    item.timerAt = nil
                    try DispatcherStore.save(item, on: connection)
                    continue
                }
                // The first time a handling deadline fires, the case is overdue; later firings are reminders.
                if timer == .handle, item.reminders == 0, let deadline = item.deadline {
                    try emit(IncidentOverdue(incidentId: item.id, stage: "handle", deadline: deadline), for: &item, at: now, outbox)
                }
                let ladder = settings.escalation.ladder(of: item)
                let level = ladder[min(item.escalationLevel + 1, ladder.count - 1)]
                let targets = escalationTargets(level: level, grid: item.grid, district: district)
                let reason = timer == .acknowledge ? "not acknowledged by the deadline" : "not handled by the deadline"
                try emit(
                    IncidentEscalated(incidentId: item.id, level: level, to: targets, reason: item.reminders == 0 ? reason : "reminder: \(reason)"),
                    for: &item,
                    at: now,
                    outbox
                )
                try DispatcherStore.save(item, on: connection)
            }
            return due.count
        }
    }

    /// Great-circle distance (haversine), in meters.
    static func meters(_ a: GeoPoint, _ b: GeoPoint) -> Double {
        let radians = Double.pi / 180
        let dLatitude = (b.latitude - a.latitude) * radians
        let dLongitude = (b.longitude - a.longitude) * radians
        let h =
            sin(dLatitude / 2) * sin(dLatitude / 2)
            + cos(a.latitude * radians) * cos(b.latitude * radians) * sin(dLongitude / 2) * sin(dLongitude / 2)
        return 2 * 6_371_000 * asin(min(1, h.squareRoot()))
    }

    /// Members of the grid in that role; beyond the roster, the community or the town itself.
    func escalationTargets(level: String, grid: String?, district: District) -> [String] {
        guard let grid, let place = district.gridsByID[grid] else { return [level] }
        switch level {
        case "community": return ["community:\(place.community)"]
        case "town": return ["town:\(place.town)"]
        default:
            let members = district.members(of: grid).filter { $0.role.rawValue == level }.map(\.id)
            return members.isEmpty ? ["\(level):\(grid)"] : members
        }
    }
}
