#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// A case at work: dispatched, acknowledged, started, suspended, resumed, escalated, returned, extended.

/// `incident.dispatched`: a case was assigned to people.
public struct IncidentDispatched: EventPayload {
    public static let eventType = EventType.incidentDispatched
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    /// Member ids; several in emergency mode (assign-to-everyone).
    public var assignees: [String]
    public var role: String
    /// When acknowledgement is due.
    public var acknowledgeBy: Date
    /// When handling is due.
    public var deadline: Date
    /// The assignment policy that chose them.
    public var policy: String?

    public init(incidentId: String, assignees: [String], role: String, acknowledgeBy: Date, deadline: Date, policy: String? = nil) {
        self.incidentId = incidentId
        self.assignees = assignees
        self.role = role
        self.acknowledgeBy = acknowledgeBy
        self.deadline = deadline
        self.policy = policy
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion, Fields.incidentID,
        .required("assignees", .array(Fields.memberID)),
        .required("role", .string(maxLength: 64)),
        .required("acknowledgeBy", .dateTime),
        .required("deadline", .dateTime),
        .optional("policy", .string(maxLength: 64)),
    ])
    public static let example = IncidentDispatched(
        incidentId: "inc-0001",
        assignees: ["m-17"],
        role: "grid-worker",
        acknowledgeBy: exampleDate,
        deadline: exampleDate,
        policy: "least-load"
    )
    public static let minimalExample = IncidentDispatched(
        incidentId: "inc-0001",
        assignees: ["m-17"],
        role: "grid-worker",
        acknowledgeBy: exampleDate,
        deadline: exampleDate
    )
}

/// An action by a person on a case, with an optional note: the payload of
/// `incident.acknowledged`, `incident.started`, `incident.suspended` and `incident.resumed`.
public protocol IncidentActionPayload: IncidentPayload {
    /// Who acted.
    var by: String { get }
    var note: String? { get }
    init(incidentId: String, by: String, note: String?)
}

extension IncidentActionPayload {
    public static var schema: JSONSchema {
        .object([Fields.schemaVersion, Fields.incidentID, .required("by", Fields.memberID), .optional("note", Fields.note)])
    }
    public static var example: Self { Self(incidentId: "inc-0001", by: "m-17", note: "on my way") }
    public static var minimalExample: Self { Self(incidentId: "inc-0001", by: "m-17", note: nil) }
}

public struct IncidentAcknowledged: IncidentActionPayload {
    public static let eventType = EventType.incidentAcknowledged
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    public var by: String
    public var note: String?
    public init(incidentId: String, by: String, note: String? = nil) {
        self.incidentId = incidentId
        self.by = by
        self.note = note
    }
}

public struct IncidentStarted: IncidentActionPayload {
    public static let eventType = EventType.incidentStarted
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    public var by: String
    public var note: String?
    public init(incidentId: String, by: String, note: String? = nil) {
        self.incidentId = incidentId
        self.by = by
        self.note = note
    }
}

public struct IncidentSuspended: IncidentActionPayload {
    public static let eventType = EventType.incidentSuspended
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    public var by: String
    public var note: String?
    public init(incidentId: String, by: String, note: String? = nil) {
        self.incidentId = incidentId
        self.by = by
        self.note = note
    }
}

public struct IncidentResumed: IncidentActionPayload {
    public static let eventType = EventType.incidentResumed
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    public var by: String
    public var note: String?
    public init(incidentId: String, by: String, note: String? = nil) {
        self.incidentId = incidentId
        self.by = by
        self.note = note
    }
}

/// `incident.escalated`: nobody acted in time; people higher up the ladder are told.
public struct IncidentEscalated: EventPayload {
    public static let eventType = EventType.incidentEscalated
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    /// The rung reached: grid-chief, instructor, community, town.
    public var level: String
    public var to: [String]
    public var reason: String

    public init(incidentId: String, level: String, to: [String], reason: String) {
        self.incidentId = incidentId
        self.level = level
        self.to = to
        self.reason = reason
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion, Fields.incidentID,
        .required("level", .string(maxLength: 64)), .required("to", .array(Fields.memberID)), .required("reason", .string(maxLength: 500)),
    ])
    public static let example = IncidentEscalated(incidentId: "inc-0001", level: "grid-chief", to: ["m-2"], reason: "not acknowledged within 30 min")
    public static let minimalExample = example
}

/// `incident.returned`: the assignee says the case was wrongly dispatched.
public struct IncidentReturned: EventPayload {
    public static let eventType = EventType.incidentReturned
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    public var by: String
    public var reason: String

    public init(incidentId: String, by: String, reason: String) {
        self.incidentId = incidentId
        self.by = by
        self.reason = reason
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion, Fields.incidentID, .required("by", Fields.memberID), .required("reason", Fields.note),
    ])
    public static let example = IncidentReturned(incidentId: "inc-0001", by: "m-17", reason: "belongs to the water company")
    public static let minimalExample = example
}

/// `incident.extended`: the handling deadline was moved.
public struct IncidentExtended: EventPayload {
    public static let eventType = EventType.incidentExtended
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    public var by: String
    public var deadline: Date
    public var reason: String

    public init(incidentId: String, by: String, deadline: Date, reason: String) {
        self.incidentId = incidentId
        self.by = by
        self.deadline = deadline
        self.reason = reason
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion, Fields.incidentID, .required("by", Fields.memberID), .required("deadline", .dateTime), .required("reason", Fields.note),
    ])
    public static let example = IncidentExtended(incidentId: "inc-0001", by: "m-2", deadline: exampleDate, reason: "parts on order")
    public static let minimalExample = example
}
