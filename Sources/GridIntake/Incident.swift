import Foundation
import GridSchema

/// Where an incident stands, as the intake knows it from the lifecycle events on the bus.
public enum IncidentStatus: String, Sendable, Codable, CaseIterable {
    case reported
    /// Outside every grid (or no position and no grid): waiting for an operator to place it.
    case triage
    case registered, rejected, merged, dispatched, acknowledged
    case inProgress = "in-progress"
    case returned, suspended, handled, verified, rework, closed, reopened

    /// Open311's two states.
    public var isClosed: Bool { self == .closed || self == .rejected || self == .merged }
}

/// One step of an incident's life.
public struct TimelineEntry: Sendable, Codable, Equatable {
    public var status: IncidentStatus?
    public var type: String
    public var at: Date
    public var note: String?
    /// The dispatcher's step (its event ids are `<incident>-<n>`); the timeline is in step order.
    public var step: Int?
}

/// An incident as the intake stores and shows it.
public struct Incident: Sendable, Codable, Equatable {
    public var id: String
    public var token: String
    public var status: IncidentStatus
    public var category: String
    public var serviceCode: String
    public var description: String
    public var priority: Priority
    public var channel: ReportChannel
    public var grid: String?
    public var location: GeoPoint?
    public var address: String?
    public var reporter: Reporter?
    public var mediaUrls: [String]
    public var externalId: String?
    public var attributes: [String: String]
    /// The external system (API key name) that reported it.
    public var client: String
    public var agency: String
    public var reportedAt: Date
    public var createdAt: Date
    public var updatedAt: Date
    public var deadline: Date?
    public var statusNotes: String?
    public var timeline: [TimelineEntry]

    /// The incident without what only the reporting system may see (Open311's public view).
    public var publicView: Incident {
        var copy = self
        copy.reporter = nil
        copy.externalId = nil
        copy.client = ""
        return copy
    }
}
