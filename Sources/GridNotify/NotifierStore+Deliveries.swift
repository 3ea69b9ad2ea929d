import Foundation
import GridJSON
import GridSchema
import GridStore

// The notification log: notices planned, claimed, sent and settled.
extension NotifierStore {
    /// Inserts the notice unless one with its key exists (the same state change told before).
    static func insert(_ row: DeliveryRow, on connection: any StoreConnection) throws -> Bool {
        let statement = try connection.prepare(
            """
            INSERT INTO deliveries (key, notification_id, recipient, recipient_id, incident, type, priority, grid, category, urgent, facts,
                channel_index, channel, status, created_ms, due_ms, attempts, message_id, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING
            """
        )
        statement.bind(row.key, at: 1)
        statement.bind(row.notificationId, at: 2)
        statement.bind(try json(row.recipient), at: 3)
        statement.bind(row.recipient.id, at: 4)
        statement.bind(row.incident, at: 5)
        statement.bind(row.type, at: 6)
        statement.bind(row.priority, at: 7)
        statement.bind(row.grid, at: 8)
        statement.bind(row.category, at: 9)
        statement.bind(row.urgent ? 1 : 0, at: 10)
        statement.bind(try json(row.facts), at: 11)
        statement.bind(row.channelIndex, at: 12)
        statement.bind(row.channel, at: 13)
        statement.bind(row.status.rawValue, at: 14)
        statement.bind(row.createdAt, at: 15)
        statement.bind(row.dueAt, at: 16)
        statement.bind(row.attempts, at: 17)
        statement.bind(row.messageId, at: 18)
        statement.bind(row.detail, at: 19)
        try statement.run()
        return connection.changes == 1
    }

    static let columns =
        "id, key, notification_id, recipient, incident, type, priority, grid, category, urgent, facts, channel_index, channel, status, created_ms, due_ms, attempts, message_id, detail"

    static func row(_ statement: any StoreStatement) -> DeliveryRow? {
        guard let recipient = value(Recipient.self, statement.text(3)), let status = DeliveryRow.Status(rawValue: statement.text(13) ?? "") else {
            return nil
        }
        return DeliveryRow(
            id: statement.int64(0),
            key: statement.text(1) ?? "",
            notificationId: statement.text(2) ?? "",
            recipient: recipient,
            incident: statement.text(4),
            type: statement.text(5) ?? "",
            priority: statement.text(6),
            grid: statement.text(7),
            category: statement.text(8),
            urgent: statement.int64(9) != 0,
            facts: value([String: String].self, statement.text(10)) ?? [:],
            channelIndex: Int(statement.int64(11)),
            channel: statement.text(12) ?? "",
            status: status,
            createdAt: statement.int64(14),
            dueAt: statement.int64(15),
            attempts: Int(statement.int64(16)),
            messageId: statement.text(17),
            detail: statement.text(18)
        )
    }

    /// The most notices one message holds: a member with more waiting gets several.
    static let noticesPerMessage = 100

    /// The claim's reads, each along a partial index in the order asked (no sort of its own).
    static let claimSQL = (
        due: "SELECT \(columns) FROM deliveries WHERE \(isWaiting) AND due_ms <= ? ORDER BY due_ms, id LIMIT ?",
        waiting: "SELECT \(columns) FROM deliveries WHERE recipient_id = ? AND channel = ? AND \(isWaitingAlone) AND due_ms <= ? ORDER BY id LIMIT ?",
        retrying: "SELECT \(columns) FROM deliveries WHERE message_id = ? AND \(isRetrying) ORDER BY id"
    )

    /// Rows ready to go at `now` (waiting ones and ones to try again), in the order they fell due,
    /// at most `limit`, for as long as `take` asks for more. Nothing may be written until it returns.
    static func due(at now: Int64, limit: Int, on connection: any StoreConnection, take: (DeliveryRow) -> Bool) throws {
        let statement = try connection.prepare(claimSQL.due)
        statement.bind(now, at: 1)
        statement.bind(limit, at: 2)
        while try statement.step() {
            if let row = row(statement), !take(row) { break }
        }
        statement.reset()
    }

    /// Notices not yet in a message for a recipient on a channel, due by `dueBy`, at most `limit`.
    static func waiting(recipient: String, channel: String, dueBy: Int64, limit: Int, on connection: any StoreConnection) throws -> [DeliveryRow] {
        let statement = try connection.prepare(claimSQL.waiting)
        statement.bind(recipient, at: 1)
        statement.bind(channel, at: 2)
        statement.bind(dueBy, at: 3)
        statement.bind(limit, at: 4)
        var rows: [DeliveryRow] = []
        while try statement.step() { if let row = row(statement) { rows.append(row) } }
        return rows
    }

    /// The notices of a message to be tried again.
    static func retrying(messageId: String, on connection: any StoreConnection) throws -> [DeliveryRow] {
        let statement = try connection.prepare(claimSQL.retrying)
        statement.bind(messageId, at: 1)
        var rows: [DeliveryRow] = []
        while try statement.step() { if let row = row(statement) { rows.append(row) } }
        return rows
    }

    static func rows(incident: String, on connection: any StoreConnection) throws -> [DeliveryRow] {
        let statement = try connection.prepare("SELECT \(columns) FROM deliveries WHERE incident = ? ORDER BY id")
        statement.bind(incident, at: 1)
        var rows: [DeliveryRow] = []
        while try statement.step() { if let row = row(statement) { rows.append(row) } }
        return rows
    }

    static func update(
        _ ids: [Int64],
        status: DeliveryRow.Status,
        dueAt: Int64? = nil,
        attempts: Int? = nil,
        messageId: String? = nil,
        detail: String? = nil,
        providerId: String? = nil,
        doneAt: Int64? = nil,
        on connection: any StoreConnection
    ) throws {
        // A NULL parameter has no type of its own: PostgreSQL needs the cast to read COALESCE.
        let statement = try connection.prepare(
            """
            UPDATE deliveries SET status = ?, due_ms = COALESCE(CAST(? AS BIGINT), due_ms), attempts = COALESCE(CAST(? AS BIGINT), attempts),
                message_id = COALESCE(CAST(? AS TEXT), message_id), detail = COALESCE(CAST(? AS TEXT), detail),
                provider_id = COALESCE(CAST(? AS TEXT), provider_id), done_ms = COALESCE(CAST(? AS BIGINT), done_ms) WHERE id = ?
            """
        )
        for id in ids {
            statement.bind(status.rawValue, at: 1)
            if let dueAt { statement.bind(dueAt, at: 2) } else { statement.bindNull(at: 2) }
            if let attempts { statement.bind(attempts, at: 3) } else { statement.bindNull(at: 3) }
            statement.bind(messageId, at: 4)
            statement.bind(detail, at: 5)
            statement.bind(providerId, at: 6)
            if let doneAt { statement.bind(doneAt, at: 7) } else { statement.bindNull(at: 7) }
            statement.bind(id, at: 8)
            try statement.run()
            statement.reset()
        }
    }

    static let cancelRemindersSQL =
        "UPDATE deliveries SET status = 'cancelled', detail = 'the case moved on' WHERE incident = ? AND type = 'reminder' AND \(isWaiting)"

    /// Reminders not yet sent for an incident that moved on.
    static func cancelReminders(incident: String, on connection: any StoreConnection) throws {
        let clear = try connection.prepare("DELETE FROM reminders WHERE incident = ?")
        clear.bind(incident, at: 1)
        try clear.run()
        let cancel = try connection.prepare(cancelRemindersSQL)
        cancel.bind(incident, at: 1)
        try cancel.run()
    }
}
