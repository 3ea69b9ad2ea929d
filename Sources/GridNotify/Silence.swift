import Foundation

/// Holds back the notices it matches until it expires, as an Alertmanager silence does: every
/// matcher given must match (`grid` and `category` by prefix).
public struct Silence: Sendable, Codable, Equatable {
    public struct Matchers: Sendable, Codable, Equatable {
        public var type: String?
        public var grid: String?
        public var category: String?
        public var recipient: String?
        public var incident: String?
        public init(type: String? = nil, grid: String? = nil, category: String? = nil, recipient: String? = nil, incident: String? = nil) {
            self.type = type
            self.grid = grid
            self.category = category
            self.recipient = recipient
            self.incident = incident
        }

        public var isEmpty: Bool { [type, grid, category, recipient, incident].allSatisfy { $0 == nil } }
    }

    public var id: String
    public var matchers: Matchers
    public var startsAt: Date
    public var endsAt: Date
    public var createdBy: String
    public var comment: String?

    func matches(_ row: DeliveryRow) -> Bool {
        (matchers.type.map { $0 == row.type } ?? true)
            && (matchers.grid.map { row.grid?.hasPrefix($0) == true } ?? true)
            && (matchers.category.map { row.category?.hasPrefix($0) == true } ?? true)
            && (matchers.recipient.map { $0 == row.recipient.id } ?? true)
            && (matchers.incident.map { $0 == row.incident } ?? true)
    }
}
