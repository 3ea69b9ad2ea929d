#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `incident.reported`: an external system reported something; published by the intake.
public struct IncidentReported: EventPayload {
    public static let eventType = EventType.incidentReported
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    /// Category code from the catalogue, e.g. `E-01-02`.
    public var category: String
    public var description: String
    public var priority: Priority
    public var channel: ReportChannel
    public var reportedAt: Date
    public var grid: String?
    public var location: GeoPoint?
    public var address: String?
    public var reporter: Reporter?
    public var mediaUrls: [String]?
    /// The reporting system's own id, for idempotency and cross-reference.
    public var externalId: String?

    public init(
        incidentId: String,
        category: String,
        description: String,
        priority: Priority = .normal,
        channel: ReportChannel,
        reportedAt: Date,
        grid: String? = nil,
        location: GeoPoint? = nil,
        address: String? = nil,
        reporter: Reporter? = nil,
        mediaUrls: [String]? = nil,
        externalId: String? = nil
    ) {
        self.incidentId = incidentId
        self.category = category
        self.description = description
        self.priority = priority
        self.channel = channel
        self.reportedAt = reportedAt
        self.grid = grid
        self.location = location
        self.address = address
        self.reporter = reporter
        self.mediaUrls = mediaUrls
        self.externalId = externalId
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion, Fields.incidentID,
        .required("category", .string(maxLength: 32), "Category code, e.g. E-01-02"),
        .required("description", .string(maxLength: 4000)),
        .required("priority", .string(enumeration: Priority.allCases.map(\.rawValue))),
        .required("channel", .string(enumeration: ReportChannel.allCases.map(\.rawValue))),
        .required("reportedAt", .dateTime),
        .optional("grid", .string(maxLength: 64)),
        .optional("location", GeoPoint.schema),
        .optional("address", .string(maxLength: 500)),
        .optional("reporter", Reporter.schema),
        .optional("mediaUrls", .array(.uri)),
        .optional("externalId", .string(maxLength: 128)),
    ])
    public static let example = IncidentReported(
        incidentId: "inc-0001",
        category: "E-01-02",
        description: "Exposed rubbish by the east gate",
        priority: .urgent,
        channel: .app,
        reportedAt: exampleDate,
        grid: "G-01-01-01",
        location: GeoPoint(latitude: 31.2304, longitude: 121.4737),
        address: "1 Gate Road",
        reporter: Reporter(name: "Li", phone: "13800000000", wantsUpdates: true),
        mediaUrls: ["https://example.org/p.jpg"],
        externalId: "app-77"
    )
    public static let minimalExample = IncidentReported(
        incidentId: "inc-0001",
        category: "E-01-02",
        description: "Exposed rubbish",
        channel: .hotline,
        reportedAt: exampleDate
    )
}

/// `incident.registered`: the dispatcher accepted a report as a case.
public struct IncidentRegistered: EventPayload {
    public static let eventType = EventType.incidentRegistered
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    public var category: String
    public var grid: String
    public var priority: Priority
    /// When the whole case must be closed.
    public var deadline: Date
    /// Registered while its grid was in emergency mode: emergency limits and escalation apply.
    public var emergency: Bool?

    public init(incidentId: String, category: String, grid: String, priority: Priority, deadline: Date, emergency: Bool? = nil) {
        self.incidentId = incidentId
        self.category = category
        self.grid = grid
        self.priority = priority
        self.deadline = deadline
        self.emergency = emergency
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion, Fields.incidentID,
        .required("category", .string(maxLength: 32)),
        .required("grid", .string(maxLength: 64)),
        .required("priority", .string(enumeration: Priority.allCases.map(\.rawValue))),
        .required("deadline", .dateTime),
        .optional("emergency", .boolean, "Registered under emergency mode (absent: no)"),
    ])
    public static let example = IncidentRegistered(
        incidentId: "inc-0001",
        category: "E-01-02",
        grid: "G-01-01-01",
        priority: .urgent,
        deadline: exampleDate,
        emergency: true
    )
    public static let minimalExample = IncidentRegistered(
        incidentId: "inc-0001",
        category: "E-01-02",
        grid: "G-01-01-01",
        priority: .normal,
        deadline: exampleDate
    )
}

/// `incident.rejected`: a report was not registered (or a case was voided).
public struct IncidentRejected: EventPayload {
    public enum Reason: String, Sendable, Hashable, Codable, CaseIterable {
        case outOfScope = "out-of-scope"
        case notResponsible = "not-responsible"
        case invalid, void
    }
    public static let eventType = EventType.incidentRejected
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    public var reason: Reason
    public var note: String?

    public init(incidentId: String, reason: Reason, note: String? = nil) {
        self.incidentId = incidentId
        self.reason = reason
        self.note = note
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion, Fields.incidentID,
        .required("reason", .string(enumeration: Reason.allCases.map(\.rawValue))),
        .optional("note", Fields.note),
    ])
    public static let example = IncidentRejected(incidentId: "inc-0001", reason: .outOfScope, note: "private property")
    public static let minimalExample = IncidentRejected(incidentId: "inc-0001", reason: .invalid)
}

/// `incident.merged`: a report was a duplicate of an open case and was linked to it.
public struct IncidentMerged: EventPayload {
    public static let eventType = EventType.incidentMerged
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    /// The case it was merged into.
    public var caseId: String

    public init(incidentId: String, caseId: String) {
        self.incidentId = incidentId
        self.caseId = caseId
    }

    public static let schema = JSONSchema.object([Fields.schemaVersion, Fields.incidentID, .required("caseId", .string(maxLength: 128))])
    public static let example = IncidentMerged(incidentId: "inc-0002", caseId: "inc-0001")
    public static let minimalExample = example
}

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
public protocol IncidentActionPayload: EventPayload {
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

/// `incident.handled`: the assignee says the work is done.
public struct IncidentHandled: EventPayload {
    public static let eventType = EventType.incidentHandled
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    public var by: String
    public var note: String
    public var photoUrls: [String]?

    public init(incidentId: String, by: String, note: String, photoUrls: [String]? = nil) {
        self.incidentId = incidentId
        self.by = by
        self.note = note
        self.photoUrls = photoUrls
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion, Fields.incidentID, .required("by", Fields.memberID), .required("note", Fields.note),
        .optional("photoUrls", .array(.uri)),
    ])
    public static let example = IncidentHandled(incidentId: "inc-0001", by: "m-17", note: "cleared", photoUrls: ["https://example.org/after.jpg"])
    public static let minimalExample = IncidentHandled(incidentId: "inc-0001", by: "m-17", note: "cleared")
}

/// `incident.verified`: a checker passed the work, or failed it (rework).
public struct IncidentVerified: EventPayload {
    public static let eventType = EventType.incidentVerified
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    public var by: String
    public var passed: Bool
    public var note: String?

    public init(incidentId: String, by: String, passed: Bool, note: String? = nil) {
        self.incidentId = incidentId
        self.by = by
        self.passed = passed
        self.note = note
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion, Fields.incidentID, .required("by", Fields.memberID), .required("passed", .boolean), .optional("note", Fields.note),
    ])
    public static let example = IncidentVerified(incidentId: "inc-0001", by: "m-2", passed: false, note: "rubbish still there")
    public static let minimalExample = IncidentVerified(incidentId: "inc-0001", by: "m-2", passed: true)
}

/// `incident.reopened`: a closed case came back.
public struct IncidentReopened: EventPayload {
    public static let eventType = EventType.incidentReopened
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
    public static let example = IncidentReopened(incidentId: "inc-0001", by: "operator", reason: "came back the next day")
    public static let minimalExample = example
}

/// `incident.closed`: the case is done; volunteers may earn points.
public struct IncidentClosed: EventPayload {
    public static let eventType = EventType.incidentClosed
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    public var by: String
    public var onTime: Bool
    /// Points awarded to members for a volunteer task, by member id.
    public var points: [String: Int]?

    public init(incidentId: String, by: String, onTime: Bool, points: [String: Int]? = nil) {
        self.incidentId = incidentId
        self.by = by
        self.onTime = onTime
        self.points = points
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion, Fields.incidentID, .required("by", Fields.memberID), .required("onTime", .boolean), .optional("points", .freeObject),
    ])
    public static let example = IncidentClosed(incidentId: "inc-0001", by: "m-2", onTime: true, points: ["m-40": 5])
    public static let minimalExample = IncidentClosed(incidentId: "inc-0001", by: "m-2", onTime: false)
}

/// `incident.overdue`: a deadline passed with the case still open.
public struct IncidentOverdue: EventPayload {
    public static let eventType = EventType.incidentOverdue
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var incidentId: String
    /// Which deadline: acknowledge, handle or close.
    public var stage: String
    public var deadline: Date

    public init(incidentId: String, stage: String, deadline: Date) {
        self.incidentId = incidentId
        self.stage = stage
        self.deadline = deadline
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion, Fields.incidentID, .required("stage", .string(enumeration: ["acknowledge", "handle", "close"])),
        .required("deadline", .dateTime),
    ])
    public static let example = IncidentOverdue(incidentId: "inc-0001", stage: "handle", deadline: exampleDate)
    public static let minimalExample = example
}
