import Foundation
import GridJSON
import GridSchema

/// What the statistics know of one case, from its events; its `contribution` is what it adds to
/// the roll-ups. Cases are counted on the day they were reported (the cohort), so a case's later
/// steps update the numbers of that day.
struct CaseRecord: Equatable, Sendable {
    var id: String
    var reportedAt: Date?
    var grid: String?
    var category: String?
    var priority: Priority?
    var state: String = "reported"
    var registeredAt: Date?
    var deadline: Date?
    var firstDispatchAt: Date?
    var firstAssignees: [String] = []
    var returns = 0
    var firstAcknowledgedAt: Date?
    var firstHandledAt: Date?
    var handledOnTime: Bool?
    var closedOnTime: Bool?
    var reworked = false
    var escalations = 0
    var overdue = false
    var reopened = false
    /// Event ids applied: a redelivered event changes nothing.
    var applied: [String] = []
    /// The dispatcher's last step applied, and its later steps that arrived before an earlier one,
    /// held until the gap is filled (optional: stores written before them decode).
    var step: Int?
    var held: [StatsEvent]?

    /// Receives one event: applies it when it is the case's next step (or carries no step), with any
    /// held steps that follow it; holds it when an earlier step is still missing. A redelivered
    /// event changes nothing.
    mutating func receive(_ event: StatsEvent, at time: Date, timeOf: (StatsEvent) -> Date) {
        guard let number = event.step else {
            _ = apply(event, at: time)
            return
        }
        // A record folded before steps were kept knows its steps only by the ids it applied.
        let last = step ?? applied.compactMap { CaseStep.number(ofEventID: $0, incident: id) }.max() ?? 0
        if number <= last || applied.contains(event.id) || (held ?? []).contains(where: { $0.id == event.id }) { return }
        guard number == last + 1 else {
            held = ((held ?? []) + [event]).sorted { ($0.step ?? 0) < ($1.step ?? 0) }
            return
        }
        _ = apply(event, at: time)
        step = number
        while let next = held?.first, next.step == (step ?? 0) + 1 {
            held?.removeFirst()
            _ = apply(next, at: timeOf(next))
            step = next.step
        }
        if held?.isEmpty == true { held = nil }
    }

    /// Registered and not yet closed (nor rejected or merged).
    var isOpen: Bool { registeredAt != nil && !["closed", "rejected", "merged"].contains(state) }

    /// Applies one event; false when it was applied before.
    mutating func apply(_ event: StatsEvent, at time: Date) -> Bool {
        guard !applied.contains(event.id) else { return false }
        applied.append(event.id)
        let data = event.data
        switch event.type {
        case EventType.incidentReported.rawValue:
            reportedAt = reportedAt ?? time
            grid = grid ?? data.grid ?? event.grid
            category = category ?? data.category
            priority = priority ?? data.priority
        case EventType.incidentRegistered.rawValue:
            state = "registered"
            registeredAt = registeredAt ?? time
            grid = data.grid ?? grid
            category = data.category ?? category
            priority = data.priority ?? priority
            deadline = data.deadline ?? deadline
        case EventType.incidentRejected.rawValue: state = "rejected"
        case EventType.incidentMerged.rawValue: state = "merged"
        case EventType.incidentDispatched.rawValue:
            let assignees = data.assignees ?? []
            if data.policy == "open-task" || assignees.isEmpty { break }
            if firstDispatchAt == nil {
                firstDispatchAt = time
                firstAssignees = assignees
            }
            state = data.policy == "claimed" ? "acknowledged" : "dispatched"
            if data.policy == "claimed" { firstAcknowledgedAt = firstAcknowledgedAt ?? time }
        case EventType.incidentReturned.rawValue:
            returns += 1
        case EventType.incidentAcknowledged.rawValue:
            state = "acknowledged"
            firstAcknowledgedAt = firstAcknowledgedAt ?? time
        case EventType.incidentStarted.rawValue, EventType.incidentResumed.rawValue: state = "in-progress"
        case EventType.incidentSuspended.rawValue: state = "suspended"
        case EventType.incidentExtended.rawValue: deadline = data.deadline ?? deadline
        case EventType.incidentHandled.rawValue:
            state = "handled"
            if firstHandledAt == nil {
                firstHandledAt = time
                handledOnTime = deadline.map { time.millisecondsSince1970 <= $0.millisecondsSince1970 } ?? true
            }
        case EventType.incidentVerified.rawValue:
            if data.passed == true {
                state = "verified"
            } else {
                state = "in-progress"
                reworked = true
            }
        case EventType.incidentClosed.rawValue:
            state = "closed"
            closedOnTime = data.onTime ?? true
        case EventType.incidentReopened.rawValue:
            state = "dispatched"
            reopened = true
            closedOnTime = nil
        case EventType.incidentEscalated.rawValue: escalations += 1
        case EventType.incidentOverdue.rawValue: overdue = true
        default: break
        }
        return true
    }

    /// Whole milliseconds apart: a stored and reloaded time (parsed from text) may differ from the
    /// one computed in memory in its last binary digits, and a bucket boundary must not see that.
    static func seconds(from start: Date, to end: Date) -> Double {
        Double(end.millisecondsSince1970 - start.millisecondsSince1970) / 1000
    }

    /// `dispatchLimit`: seconds from registration within which a dispatch is timely.
    func contribution(dispatchLimit: Double) -> Contribution {
        var counts = Contribution()
        guard reportedAt != nil || registeredAt != nil else { return counts }
        counts[.reports] = 1
        if registeredAt != nil { counts[.registered] = 1 }
        if state == "rejected" { counts[.rejected] = 1 }
        if state == "merged" { counts[.merged] = 1 }
        if let dispatched = firstDispatchAt {
            counts[.dispatched] = 1
            if let registered = registeredAt, dispatched.timeIntervalSince(registered) <= dispatchLimit { counts[.timelyDispatched] = 1 }
            if returns > 0 { counts[.returned] = 1 }
            if let acknowledged = firstAcknowledgedAt {
                let seconds = max(0, Self.seconds(from: dispatched, to: acknowledged))
                counts[.acknowledged] = 1
                counts[.acknowledgeSeconds] = Int64(seconds.rounded())
                counts.acknowledgeBucket = DurationBuckets.bucket(seconds: seconds)
            }
        }
        if let handled = firstHandledAt, let registered = registeredAt {
            let seconds = max(0, Self.seconds(from: registered, to: handled))
            counts[.handled] = 1
            counts[.handleSeconds] = Int64(seconds.rounded())
            counts.handleBucket = DurationBuckets.bucket(seconds: seconds)
            if handledOnTime == true { counts[.handledOnTime] = 1 }
            if reworked { counts[.reworked] = 1 }
        }
        if state == "closed" {
            counts[.closed] = 1
            if closedOnTime == true { counts[.closedOnTime] = 1 }
        }
        counts[.escalations] = Int64(escalations)
        if overdue { counts[.overdue] = 1 }
        if reopened { counts[.reopened] = 1 }
        return counts
    }
}
