import Foundation
import GridSchema

/// The parts of the events the statistics read, decoded in one pass (a `CloudEvent` and then its
/// payload would cost three): every field any of them carries, all optional.
struct StatsEvent: Codable, Equatable, Sendable {
    struct Data: Codable, Equatable, Sendable {
        var incidentId: String?
        var category: String?
        var grid: String?
        var priority: Priority?
        var deadline: Date?
        var assignees: [String]?
        var policy: String?
        var passed: Bool?
        var onTime: Bool?
        var points: [String: Int]?
        var notificationId: String?
        var recipient: String?
        var channel: String?
        var latencyMs: Int?
        var scope: String?
        var target: String?
        var mode: String?
        var by: String?
        var reason: String?
        var level: String?
    }

    var id: String
    var source: String
    var type: String
    var time: Date?
    var subject: String?
    var grid: String?
    var data: Data

    var incident: String? { data.incidentId ?? subject }

    /// The dispatcher's step for a case: its events are `<incident>-<n>`, n = 1, 2, … with no gap
    /// (docs/events.md). The bus keeps each event once but not always in that order (a publish
    /// retried after a NACK can be journaled after a later one), so a case folds them by step.
    var step: Int? {
        guard source == "grid-dispatcher", let incident else { return nil }
        return CaseStep.number(ofEventID: id, incident: incident)
    }

    static let decoder = GridJSON.decoder()

    static func decode(_ bytes: [UInt8]) throws -> StatsEvent { try decoder.decode(StatsEvent.self, from: Foundation.Data(bytes)) }
}
