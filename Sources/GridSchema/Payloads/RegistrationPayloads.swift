#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// A report and what registration makes of it: reported, registered, rejected, merged.

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
