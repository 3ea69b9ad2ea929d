#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How urgent an incident is; selects the category's normal or urgent time limit.
public enum Priority: String, Sendable, Hashable, Codable, CaseIterable {
    case normal, urgent, emergency
}

/// Where a report came from.
public enum ReportChannel: String, Sendable, Hashable, Codable, CaseIterable {
    case app, hotline, iot, patrol, open311, other
}

/// A WGS 84 position.
public struct GeoPoint: Sendable, Hashable, Codable {
    public var latitude: Double
    public var longitude: Double
    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }

    static let schema = JSONSchema.object([
        .required("latitude", .number(minimum: -90, maximum: 90)),
        .required("longitude", .number(minimum: -180, maximum: 180)),
    ])
}

/// Who reported an incident, as far as they said.
public struct Reporter: Sendable, Hashable, Codable {
    public var name: String?
    public var phone: String?
    /// The reporter asked to hear about progress.
    public var wantsUpdates: Bool
    public init(name: String? = nil, phone: String? = nil, wantsUpdates: Bool = false) {
        self.name = name
        self.phone = phone
        self.wantsUpdates = wantsUpdates
    }

    static let schema = JSONSchema.object([
        .optional("name", .string(maxLength: 200)),
        .optional("phone", .string(maxLength: 40)),
        .required("wantsUpdates", .boolean),
    ])
}

let exampleDate = Date(timeIntervalSince1970: 1_795_000_000)

/// The payload of an `incident.*` event: every one names its incident.
public protocol IncidentPayload: EventPayload {
    var incidentId: String { get }
}

// (The action payloads are incident payloads through ``IncidentActionPayload``.)
extension IncidentReported: IncidentPayload {}
extension IncidentRegistered: IncidentPayload {}
extension IncidentRejected: IncidentPayload {}
extension IncidentMerged: IncidentPayload {}
extension IncidentDispatched: IncidentPayload {}
extension IncidentEscalated: IncidentPayload {}
extension IncidentReturned: IncidentPayload {}
extension IncidentExtended: IncidentPayload {}
extension IncidentHandled: IncidentPayload {}
extension IncidentVerified: IncidentPayload {}
extension IncidentReopened: IncidentPayload {}
extension IncidentClosed: IncidentPayload {}
extension IncidentOverdue: IncidentPayload {}
