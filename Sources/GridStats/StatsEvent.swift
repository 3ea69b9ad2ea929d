import Foundation
import GridSchema

/// The parts of the events the statistics read, decoded in one pass (a `CloudEvent` and then its
/// payload would cost three): every field any of them carries, all optional.
struct StatsEvent: Decodable, Sendable {
    struct Data: Decodable, Sendable {
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

    static let decoder = GridJSON.decoder()

    static func decode(_ bytes: [UInt8]) throws -> StatsEvent { try decoder.decode(StatsEvent.self, from: Foundation.Data(bytes)) }
}
