import Foundation
import GridBusClient
import GridDistrict
import GridJSON
import GridSchema
import GridSecurity
import GridStore
import Logging
import Synchronization

// Planning: one notice per recipient and state change, when it is due, and what it says.
extension Notifier {
    /// `11-27 14:30` in the district's zone, as people read times in a message.
    func localTime(_ date: Date) -> String {
        let parts = calendar.dateComponents([.month, .day, .hour, .minute], from: date)
        return String(format: "%02d-%02d %02d:%02d", parts.month!, parts.day!, parts.hour!, parts.minute!)
    }

    func facts(of notice: Notice, for recipient: Recipient) -> [String: String] {
        var facts = notice.details
        facts["type"] = notice.type
        if let incident = notice.incidentId { facts["incident"] = incident }
        if let passed = notice.details["passed"] { facts["outcome"] = passed == "true" ? "passed" : "failed" }
        if let known = notice.facts {
            facts["grid"] = known.grid ?? facts["grid"]
            facts["priority"] = known.priority?.rawValue
            facts["acknowledgeBy"] = facts["acknowledgeBy"] ?? known.acknowledgeBy
            facts["deadline"] = facts["deadline"] ?? known.deadline
            if let code = known.category {
                let category = district.categoriesByCode[code]
                facts["categoryCode"] = code
                facts["category"] = (recipient.language == "en" ? category?.nameEn : category?.nameZh) ?? code
            }
        }
        // Times in the district's zone, as people read them.
        for key in ["acknowledgeBy", "deadline"] {
            if let text = facts[key], let date = RFC3339.parse(text) {
                facts[key] = localTime(date)
            }
        }
        return facts
    }

    /// Records the notice for the recipient; true when it was new and waits to be sent (not muted,
    /// not undeliverable, not planned before).
    @discardableResult
    func plan(
        _ notice: Notice,
        for recipient: Recipient,
        at now: Date,
        connection: any StoreConnection,
        outbox: OutboxWriter,
        keySuffix: String = ""
    ) throws -> Bool {
        let key = "\(recipient.id)|\(notice.incidentId ?? "-")|\(notice.state)\(keySuffix)"
        let grid = notice.grid
        var row = DeliveryRow(
            id: 0,
            key: key,
            notificationId: "n-" + String(SHA256.hex(Array(key.utf8)).prefix(20)),
            recipient: recipient,
            incident: notice.incidentId,
            type: notice.type,
            priority: notice.facts?.priority?.rawValue,
            grid: grid,
            category: notice.facts?.category,
            urgent: notice.urgent,
            facts: facts(of: notice, for: recipient),
            channelIndex: 0,
            channel: "none",
            status: .pending,
            createdAt: now.millisecondsSince1970,
            dueAt: now.millisecondsSince1970,
            attempts: 0,
            messageId: nil,
            detail: nil
        )
        let reachable = channelList(recipient)
        guard let channel = reachable.first else {
            row.status = .failed
            row.detail = "no address for any channel (\(rules.channelOrder.joined(separator: ", ")))"
            if try NotifierStore.insert(row, on: connection) { try publishFailure(row, attempts: 1, reason: row.detail!, outbox: outbox, at: now) }
            return false
        }
        row.channel = channel.name
        if !notice.urgent, notice.type != EventType.gridModeChanged.rawValue, let grid, try isInEmergency(grid: grid, on: connection) {
            // Emergency mode in the grid: routine notices are muted, the urgent ones go on.
            row.status = .muted
            row.detail = "the grid is in emergency mode"
        } else if !notice.urgent {
            // A reminder skips the group wait: the delivery loop plans reminders only as there is
            // room to send them (`DeliveryService`), which holds only for ones due at once. It still
            // takes along what the recipient has waiting, as any message does.
            var due = now.addingTimeInterval(notice.type == "reminder" ? 0 : rules.groupWait)
            if let window = quietHours(of: recipient), let end = window.end(after: due, calendar: calendar) { due = end }
            row.dueAt = due.millisecondsSince1970
        }
        return try NotifierStore.insert(row, on: connection) && row.status == .pending
    }

    func quietHours(of recipient: Recipient) -> QuietHours? {
        rules.quietHoursByMember[recipient.id] ?? recipient.role.flatMap { rules.quietHoursByRole[$0] }
    }

    func isInEmergency(grid: String, on connection: any StoreConnection) throws -> Bool {
        let emergencies = try NotifierStore.emergencies(on: connection)
        guard !emergencies.isEmpty, let place = places[grid] else { return false }
        return emergencies.contains("grid:\(grid)") || emergencies.contains("community:\(place.community)")
            || emergencies.contains("town:\(place.town)")
            || emergencies.contains("district:\(place.district)")
    }
}
