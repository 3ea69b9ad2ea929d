import Foundation
import GridSchema

/// An event the dispatcher publishes about a case, and what it does to the case.
///
/// The dispatcher changes a case only by emitting these events (`Dispatcher.emit` applies each
/// one as it enqueues it), and a rebuild applies the same events read back from the journal, so a
/// rebuilt case equals the live one by construction (`DispatcherRebuild`).
protocol CaseEvent: EventPayload {
    /// `time` is the event's `time` attribute; `rules` give limits the event does not carry.
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules)
}

extension DispatchCase {
    mutating func setTimer(_ timer: Timer?, at date: Date?) {
        self.timer = date == nil ? nil : timer
        timerAt = timer == nil ? nil : date
    }
}

extension IncidentRegistered: CaseEvent {
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {
        item.state = .registered
        item.triage = false
        item.grid = grid
        item.emergency = emergency ?? false
        item.registeredAt = time
        item.deadline = deadline
        item.setTimer(nil, at: nil)
    }
}

extension IncidentRejected: CaseEvent {
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {
        item.state = .rejected
        item.triage = false
        item.setTimer(nil, at: nil)
    }
}

extension IncidentMerged: CaseEvent {
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {
        item.state = .merged
        item.triage = false
        item.setTimer(nil, at: nil)
    }
}

extension IncidentDispatched: CaseEvent {
    /// Policies that are not an assignment: an open micro-wish task, and a volunteer's claim of it.
    static let openTask = "open-task"
    static let claimed = "claimed"

    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {
        item.assignees = assignees
        item.role = role
        item.acknowledgeBy = acknowledgeBy
        switch policy {
        case Self.openTask:
            // Waits for a claim; unclaimed by the deadline it is overdue.
            item.state = .registered
            item.setTimer(.handle, at: deadline)
        case Self.claimed:
            // Claiming is taking it on: no acknowledgement timer, the deadline runs.
            item.state = .acknowledged
            item.setTimer(.handle, at: deadline)
        default:
            item.state = .dispatched
            item.setTimer(.acknowledge, at: acknowledgeBy)
        }
    }
}

extension IncidentAcknowledged: CaseEvent {
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {
        item.state = .acknowledged
        // A new stage starts its own reminders; the escalation level stays (those told stay told).
        item.reminders = 0
        item.setTimer(.handle, at: item.deadline)
    }
}

extension IncidentStarted: CaseEvent {
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) { item.state = .inProgress }
}

extension IncidentHandled: CaseEvent {
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {
        item.state = .handled
        item.setTimer(nil, at: nil)
    }
}

extension IncidentVerified: CaseEvent {
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {
        if passed {
            item.state = .verified
        } else {
            // Rework: back in progress, due by the deadline (or at once if it has passed).
            item.state = .inProgress
            item.reminders = 0
            item.setTimer(.handle, at: item.deadline.map { max($0, time) })
        }
    }
}

extension IncidentClosed: CaseEvent {
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {
        item.state = .closed
        item.closedAt = time
        item.setTimer(nil, at: nil)
    }
}

extension IncidentReopened: CaseEvent {
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {
        item.state = .dispatched
        item.closedAt = nil
        item.reminders = 0
        item.acknowledgeBy = time.addingTimeInterval(rules.pace(of: item).acknowledge)
        item.setTimer(.acknowledge, at: item.acknowledgeBy)
    }
}

extension IncidentSuspended: CaseEvent {
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {
        item.state = .suspended
        item.setTimer(nil, at: nil)
    }
}

extension IncidentResumed: CaseEvent {
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {
        item.state = .inProgress
        item.reminders = 0
        item.setTimer(.handle, at: item.deadline.map { max($0, time) })
    }
}

extension IncidentExtended: CaseEvent {
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {
        item.deadline = deadline
        if item.timer == .handle { item.timerAt = deadline }
    }
}

extension IncidentReturned: CaseEvent {
    /// Waits registered until the `incident.dispatched` that follows (none when nobody else is left).
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {
        item.state = .registered
        item.returns += 1
        item.setTimer(nil, at: nil)
    }
}

extension IncidentOverdue: CaseEvent {
    /// The `incident.escalated` that always follows moves the timer on.
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {}
}

extension IncidentEscalated: CaseEvent {
    func apply(to item: inout DispatchCase, at time: Date, rules: EscalationRules) {
        let ladder = rules.ladder(of: item)
        item.escalationLevel = ladder.firstIndex(of: level) ?? min(item.escalationLevel + 1, ladder.count - 1)
        item.reminders += 1
        item.timerAt = time.addingTimeInterval(rules.pace(of: item).remind)
    }
}

/// Every event type that changes a case, for reading them back from the journal.
enum CaseEvents {
    static let all: [any CaseEvent.Type] = [
        IncidentRegistered.self, IncidentRejected.self, IncidentMerged.self, IncidentDispatched.self, IncidentAcknowledged.self,
        IncidentStarted.self, IncidentHandled.self, IncidentVerified.self, IncidentClosed.self, IncidentReopened.self,
        IncidentSuspended.self, IncidentResumed.self, IncidentExtended.self, IncidentReturned.self, IncidentOverdue.self,
        IncidentEscalated.self,
    ]
    static let byType: [String: any CaseEvent.Type] = Dictionary(uniqueKeysWithValues: all.map { ($0.eventType.rawValue, $0) })
}
