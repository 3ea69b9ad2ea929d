import Foundation
import GridJSON
import GridSchema
import GridStore

// Reminders of dispatches nobody acknowledged.
extension NotifierStore {
    struct Reminder: Sendable {
        var incident: String
        var recipientId: String
        var dispatch: String
        var count: Int
    }

    static func remind(incident: String, recipients: [String], dispatch: String, next: Int64, on connection: any StoreConnection) throws {
        try cancelReminders(incident: incident, on: connection)
        let statement = try connection.prepare(
            """
            INSERT INTO reminders (incident, recipient_id, dispatch, next_ms, count) VALUES (?, ?, ?, ?, 0)
            ON CONFLICT (incident, recipient_id) DO UPDATE SET dispatch = excluded.dispatch, next_ms = excluded.next_ms, count = 0
            """
        )
        for recipient in recipients {
            statement.bind(incident, at: 1)
            statement.bind(recipient, at: 2)
            statement.bind(dispatch, at: 3)
            statement.bind(next, at: 4)
            try statement.run()
            statement.reset()
        }
    }

    /// The reminders waiting for an operator's look: one incident's, one member's, or the soonest
    /// of all; each along an index (`reminders`' key, `reminders_recipient`, `reminders_due`).
    static let waitingRemindersSQL = (
        incident: "SELECT incident, recipient_id, dispatch, count, next_ms FROM reminders WHERE incident = ? ORDER BY next_ms LIMIT ?",
        recipient: "SELECT incident, recipient_id, dispatch, count, next_ms FROM reminders WHERE recipient_id = ? ORDER BY next_ms LIMIT ?",
        all: "SELECT incident, recipient_id, dispatch, count, next_ms FROM reminders ORDER BY next_ms LIMIT ?"
    )

    /// Reminders not yet over, soonest first, at most `limit`: of `incident`, of `recipient`, of
    /// both, or of everyone.
    static func waitingReminders(
        incident: String?,
        recipient: String?,
        limit: Int,
        on connection: any StoreConnection
    ) throws
        -> [(reminder: Reminder, nextAt: Int64)]
    {
        let statement: any StoreStatement
        switch (incident, recipient) {
        case (let incident?, _):
            // A reminder per assignee, a handful: a member asked for too is picked out of them.
            statement = try connection.prepare(waitingRemindersSQL.incident)
            statement.bind(incident, at: 1)
            statement.bind(Int.max, at: 2)
        case (nil, let recipient?):
            statement = try connection.prepare(waitingRemindersSQL.recipient)
            statement.bind(recipient, at: 1)
            statement.bind(limit, at: 2)
        case (nil, nil):
            statement = try connection.prepare(waitingRemindersSQL.all)
            statement.bind(limit, at: 1)
        }
        var found: [(reminder: Reminder, nextAt: Int64)] = []
        while found.count < limit, try statement.step() {
            let reminder = Reminder(
                incident: statement.text(0) ?? "",
                recipientId: statement.text(1) ?? "",
                dispatch: statement.text(2) ?? "",
                count: Int(statement.int64(3))
            )
            if let recipient, reminder.recipientId != recipient { continue }
            found.append((reminder, statement.int64(4)))
        }
        statement.reset()
        return found
    }

    /// The sweep's reads: whose reminders have waited longest, then each one's due reminders.
    static let dueRemindersSQL = (
        longestWaiting: "SELECT recipient_id FROM reminders WHERE next_ms <= ? ORDER BY next_ms LIMIT ?",
        ofRecipient: "SELECT incident, recipient_id, dispatch, count FROM reminders WHERE recipient_id = ? AND next_ms <= ? ORDER BY next_ms LIMIT ?"
    )

    /// The due reminders of the `recipients` members whose reminders have waited longest, each
    /// member's together (up to one message's worth) so that they go as one message, not one
    /// message each; at most `limit` in all.
    static func dueReminders(at now: Int64, recipients: Int, limit: Int, on connection: any StoreConnection) throws -> [Reminder] {
        var members: [String] = []
        var seen: Set<String> = []
        let longest = try connection.prepare(dueRemindersSQL.longestWaiting)
        longest.bind(now, at: 1)
        longest.bind(limit, at: 2)
        while members.count < recipients, try longest.step() {
            let member = longest.text(0) ?? ""
            if seen.insert(member).inserted { members.append(member) }
        }
        longest.reset()
        var reminders: [Reminder] = []
        let ofRecipient = try connection.prepare(dueRemindersSQL.ofRecipient)
        for member in members where reminders.count < limit {
            ofRecipient.bind(member, at: 1)
            ofRecipient.bind(now, at: 2)
            ofRecipient.bind(min(noticesPerMessage, limit - reminders.count), at: 3)
            while try ofRecipient.step() {
                reminders.append(
                    Reminder(
                        incident: ofRecipient.text(0) ?? "",
                        recipientId: ofRecipient.text(1) ?? "",
                        dispatch: ofRecipient.text(2) ?? "",
                        count: Int(ofRecipient.int64(3))
                    )
                )
            }
            ofRecipient.reset()
        }
        return reminders
    }

    static func advance(_ reminder: Reminder, next: Int64?, on connection: any StoreConnection) throws {
        let statement = try connection.prepare(
            next == nil
                ? "DELETE FROM reminders WHERE incident = ? AND recipient_id = ?"
                : "UPDATE reminders SET count = count + 1, next_ms = ? WHERE incident = ? AND recipient_id = ?"
        )
        var index: Int32 = 1
        if let next {
            statement.bind(next, at: 1)
            index = 2
        }
        statement.bind(reminder.incident, at: index)
        statement.bind(reminder.recipientId, at: index + 1)
        try statement.run()
    }
}
