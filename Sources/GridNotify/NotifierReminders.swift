import Foundation
import GridBusClient
import GridDistrict
import GridJSON
import GridSchema
import GridSecurity
import GridStore
import Logging
import Synchronization

// Reminders: dispatches nobody acknowledged, reminded until someone acts.
extension Notifier {
    /// Dispatches nobody acknowledged: the assignees are reminded every `repeat.interval`, at most
    /// `repeat.limit` times; acknowledging (or any later step) stops them. Plans the due reminders
    /// of the `recipients` members whose reminders have waited longest, each member's together
    /// (they go as one message), at most `limit` in one transaction; the others stay due for the
    /// next sweep. Returns how many it planned.
    @discardableResult
    public func sweepReminders(recipients: Int = .max, limit: Int = 500) async throws -> Int {
        let now = self.now()
        // As `handle`: a reminder taken back by a power loss falls due again under the same number.
        return try await runtime.write(durable: false) { [self] connection, outbox -> Int in
            let due = try NotifierStore.dueReminders(at: now.millisecondsSince1970, recipients: recipients, limit: limit, on: connection)
            for reminder in due {
                let number = reminder.count + 1
                let more = number < rules.repeatLimit
                try NotifierStore.advance(
                    reminder,
                    next: more ? now.addingTimeInterval(rules.repeatInterval).millisecondsSince1970 : nil,
                    on: connection
                )
                guard number <= rules.repeatLimit, let member = district.membersByID[reminder.recipientId] else { continue }
                let facts = try NotifierStore.incident(reminder.incident, on: connection)
                let notice = Notice(
                    type: "reminder",
                    state: "reminder-\(reminder.dispatch)-\(number)",
                    incidentId: reminder.incident,
                    facts: facts,
                    grid: facts?.grid,
                    details: [:],
                    urgent: (facts?.priority ?? .normal) != .normal || facts?.emergency == true
                )
                try plan(notice, for: recipient(member), at: now, connection: connection, outbox: outbox)
            }
            return due.count
        }
    }
}
