#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// A case brought to its end: handled, verified, reopened, closed, overdue.

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
