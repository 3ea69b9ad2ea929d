import Foundation
import GridBusClient
import GridDistrict
import GridJSON
import GridSchema
import GridSecurity
import GridStore
import Logging
import Synchronization

// Silences, the notification log and the reminders to come, for the API.
extension Notifier {
    public func addSilence(_ matchers: Silence.Matchers, until endsAt: Date, by createdBy: String, comment: String?) async throws -> Silence {
        let now = self.now()
        let silence = Silence(
            id: "s-" + String(UUID().uuidString.prefix(8)).lowercased(),
            matchers: matchers,
            startsAt: now,
            endsAt: endsAt,
            createdBy: createdBy,
            comment: comment
        )
        try await runtime.write { connection, _ in try NotifierStore.saveSilence(silence, on: connection) }
        logger.notice("silence created", metadata: ["silence": "\(silence.id)", "by": "\(createdBy)", "until": "\(RFC3339.format(endsAt))"])
        return silence
    }

    public func silences(includeExpired: Bool) async throws -> [Silence] {
        let now = self.now().millisecondsSince1970
        return try await runtime.read { try NotifierStore.silences(activeAt: includeExpired ? nil : now, on: $0) }
    }

    /// Ends a silence now; false when there is no such silence.
    public func expireSilence(_ id: String) async throws -> Silence? {
        let now = self.now()
        return try await runtime.write { connection, _ -> Silence? in
            guard var silence = try NotifierStore.silences(activeAt: nil, on: connection).first(where: { $0.id == id }) else { return nil }
            if silence.endsAt > now { silence.endsAt = now }
            try NotifierStore.saveSilence(silence, on: connection)
            return silence
        }
    }

    /// What the log holds for an incident: who was told what, how, and how it went.
    public struct LogEntry: Sendable, Encodable {
        public var notificationId: String
        public var recipient: String
        public var type: String
        public var channel: String
        public var status: String
        public var attempts: Int
        public var messageId: String?
        public var detail: String?
    }

    /// A reminder still to come: an unacknowledged dispatch's assignee, how many reminders they
    /// had and have left, and when the next is due.
    public struct WaitingReminder: Sendable, Encodable, Equatable {
        public var incident: String
        public var recipient: String
        public var dispatch: String
        public var sent: Int
        public var left: Int
        public var nextAt: String
    }

    /// `GET /v1/reminders`: soonest first, at most `limit`, of `incident`, `recipient`, or everyone.
    public func waitingReminders(incident: String? = nil, recipient: String? = nil, limit: Int = 100) async throws -> [WaitingReminder] {
        let repeatLimit = rules.repeatLimit
        return try await runtime.read { connection in
            try NotifierStore.waitingReminders(incident: incident, recipient: recipient, limit: limit, on: connection).map { found in
                WaitingReminder(
                    incident: found.reminder.incident,
                    recipient: found.reminder.recipientId,
                    dispatch: found.reminder.dispatch,
                    sent: found.reminder.count,
                    left: max(0, repeatLimit - found.reminder.count),
                    nextAt: RFC3339.format(Date(timeIntervalSince1970: Double(found.nextAt) / 1000))
                )
            }
        }
    }

    public func log(incident: String) async throws -> [LogEntry] {
        try await runtime.read { connection in
            try NotifierStore.rows(incident: incident, on: connection).map {
                LogEntry(
                    notificationId: $0.notificationId,
                    recipient: $0.recipient.id,
                    type: $0.type,
                    channel: $0.channel,
                    status: $0.status.rawValue,
                    attempts: $0.attempts,
                    messageId: $0.messageId,
                    detail: $0.detail
                )
            }
        }
    }
}
