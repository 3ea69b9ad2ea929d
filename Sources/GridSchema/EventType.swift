/// Every event type the bus carries, named in one place.
///
/// Types are reverse-dotted and lower case; the part before the first dot is the family
/// (`incident`, `notification`, `grid`, `bus`), so `incident.` subscribes to a whole family.
public enum EventType: String, Sendable, CaseIterable, Codable, Comparable {
    // Incident lifecycle (docs/architecture.md, "The domain"; docs/dispatcher.md).
    case incidentReported = "incident.reported"
    case incidentRegistered = "incident.registered"
    case incidentRejected = "incident.rejected"
    case incidentMerged = "incident.merged"
    case incidentDispatched = "incident.dispatched"
    case incidentAcknowledged = "incident.acknowledged"
    case incidentStarted = "incident.started"
    case incidentEscalated = "incident.escalated"
    case incidentReturned = "incident.returned"
    case incidentExtended = "incident.extended"
    case incidentSuspended = "incident.suspended"
    case incidentResumed = "incident.resumed"
    case incidentHandled = "incident.handled"
    case incidentVerified = "incident.verified"
    case incidentReopened = "incident.reopened"
    case incidentClosed = "incident.closed"
    case incidentOverdue = "incident.overdue"
    // Notifications.
    case notificationSent = "notification.sent"
    case notificationFailed = "notification.failed"
    // Grids.
    case gridModeChanged = "grid.mode.changed"
    // The bus itself.
    case busHeartbeat = "bus.heartbeat"

    /// The payload type carried in `data` for this event type.
    public var payloadType: any EventPayload.Type {
        switch self {
        case .incidentReported: IncidentReported.self
        case .incidentRegistered: IncidentRegistered.self
        case .incidentRejected: IncidentRejected.self
        case .incidentMerged: IncidentMerged.self
        case .incidentDispatched: IncidentDispatched.self
        case .incidentAcknowledged: IncidentAcknowledged.self
        case .incidentStarted: IncidentStarted.self
        case .incidentEscalated: IncidentEscalated.self
        case .incidentReturned: IncidentReturned.self
        case .incidentExtended: IncidentExtended.self
        case .incidentSuspended: IncidentSuspended.self
        case .incidentResumed: IncidentResumed.self
        case .incidentHandled: IncidentHandled.self
        case .incidentVerified: IncidentVerified.self
        case .incidentReopened: IncidentReopened.self
        case .incidentClosed: IncidentClosed.self
        case .incidentOverdue: IncidentOverdue.self
        case .notificationSent: NotificationSent.self
        case .notificationFailed: NotificationFailed.self
        case .gridModeChanged: GridModeChanged.self
        case .busHeartbeat: BusHeartbeat.self
        }
    }

    /// Types that only the daemon may emit; publishers are refused them.
    public var isReservedForBus: Bool { self == .busHeartbeat }

    public static func < (lhs: EventType, rhs: EventType) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Looks a type up by its wire name, taking raw bytes so that the daemon need not build a String.
    public static func lookup(_ name: some Collection<UInt8>) -> EventType? {
        byName[String(decoding: name, as: UTF8.self)]
    }

    private static let byName: [String: EventType] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })
}
