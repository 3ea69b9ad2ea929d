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
    let metrics: DispatcherMetrics
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
        metrics = DispatcherMetrics(factory: runtime.metrics)
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
}
