import Foundation
import GridSchema

/// A case as the dispatcher keeps it: its lifecycle state, who has it, and its next timer.
public struct DispatchCase: Sendable, Codable, Equatable {
    /// What the next timer checks.
    public enum Timer: String, Sendable, Codable {
        /// Nobody acknowledged by `acknowledgeBy`: escalate, then remind.
        case acknowledge
        /// Not handled by the deadline: overdue, escalate, then remind.
        case handle
    }

    public let id: String
    public var state: CaseState
    /// Fixed when the case is made, as are `reportedAt` and `location` (the store updates a case without them).
    public let category: String
    public var grid: String?
    public var priority: Priority
    public let location: GeoPoint?
    public let reportedAt: Date
    public var registeredAt: Date?
    public var deadline: Date?
    public var acknowledgeBy: Date?
    public var assignees: [String]
    public var role: String?
    /// Steps taken up the escalation ladder (0: none).
    public var escalationLevel: Int
    public var timer: Timer?
    public var timerAt: Date?
    public var reminders: Int
    /// Times it came back as wrongly dispatched (inaccurate dispatches).
    public var returns: Int
    /// No grid: waits for an operator to place it.
    public var triage: Bool
    /// Registered while its grid was in emergency mode: emergency limits and reminders apply.
    public var emergency: Bool
    public var closedAt: Date?
    /// Events published for the case so far: numbers each event id, so a retried publish is a duplicate.
    public var emitted: Int

    public var isOpen: Bool { ![.closed, .rejected, .merged].contains(state) }
}
