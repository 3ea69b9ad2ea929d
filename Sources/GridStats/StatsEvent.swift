import Foundation
import GridJSON
import GridSchema

/// The parts of the events the statistics read, in one pass over the event's bytes
/// (``JSONReader``): every field any of them carries, all optional. Held steps of a case are kept
/// in its record in the same shape (``write(to:)``).
struct StatsEvent: Equatable, Sendable {
    struct Data: Equatable, Sendable {
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

    /// The dispatcher's step for a case: its events are `<incident>-<n>`, n = 1, 2, … with no gap
    /// (docs/events.md). The bus keeps each event once but not always in that order (a publish
    /// retried after a NACK can be journaled after a later one), so a case folds them by step.
    var step: Int? {
        guard source == "grid-dispatcher", let incident else { return nil }
        return CaseStep.number(ofEventID: id, incident: incident)
    }

    /// An event from the bus, read through its typed payload (``CloudEvent/typedPayload()``): one
    /// whose payload does not read as its type says, or of a type the registry does not know, is
    /// refused with the reason.
    static func decode(_ bytes: [UInt8]) throws -> StatsEvent {
        let event = try CloudEvent.decode(bytes)
        var time: Date?
        if let text = event.time {
            guard let parsed = RFC3339.parse(text) else {
                throw PayloadError.invalid(type: event.type, reason: "time '\(text)' is not an RFC 3339 time")
            }
            time = parsed
        }
        return StatsEvent(
            id: event.id,
            source: event.source,
            type: event.type,
            time: time,
            subject: event.subject,
            grid: event.grid,
            data: Data(try event.typedPayload())
        )
    }

    /// Reads an event as a case record keeps it (a step held for the one before it, ``write(to:)``);
    /// fields the statistics do not use are skipped. A field they use must have its type.
    static func read(_ reader: inout JSONReader) throws -> StatsEvent {
        var (id, source, type): (String?, String?, String?)
        var event = StatsEvent(id: "", source: "", type: "", data: Data())
        try reader.readObject { name, reader in
            switch name {
            case "id": id = try reader.readString()
            case "source": source = try reader.readString()
            case "type": type = try reader.readString()
            case "time": event.time = try reader.readOptionalDate()
            case "subject": event.subject = try reader.readOptionalString()
            case "grid": event.grid = try reader.readOptionalString()
            case "data": if !reader.readNull() { event.data = try Data.read(&reader) }
            default: try reader.skipValue()
            }
        }
        guard let id, let source, let type else {
            throw JSONReadError(
                offset: 0,
                "an event needs 'id', 'source' and 'type' (missing: \([id == nil ? "id" : nil, source == nil ? "source" : nil, type == nil ? "type" : nil].compactMap { $0 }.joined(separator: ", ")))"
            )
        }
        (event.id, event.source, event.type) = (id, source, type)
        return event
    }

    func write(to writer: inout JSONObjectWriter) {
        writer.string("id", id)
        writer.string("source", source)
        writer.string("type", type)
        writer.date("time", time)
        writer.string("subject", subject)
        writer.string("grid", grid)
        writer.object("data") { data.write(to: &$0) }
    }
}

extension StatsEvent.Data {
    /// The fields the statistics fold, from an event's payload.
    init(_ payload: any EventPayload) {
        self.init()
        if let incident = payload as? any IncidentPayload { incidentId = incident.incidentId }
        switch payload {
        case let reported as IncidentReported:
            (category, grid, priority) = (reported.category, reported.grid, reported.priority)
        case let registered as IncidentRegistered:
            (category, grid, priority, deadline) = (registered.category, registered.grid, registered.priority, registered.deadline)
        case let rejected as IncidentRejected: reason = rejected.reason.rawValue
        case let dispatched as IncidentDispatched:
            (assignees, policy, deadline) = (dispatched.assignees, dispatched.policy, dispatched.deadline)
        case let action as any IncidentActionPayload: by = action.by
        case let escalated as IncidentEscalated: (level, reason) = (escalated.level, escalated.reason)
        case let returned as IncidentReturned: (by, reason) = (returned.by, returned.reason)
        case let extended as IncidentExtended: (by, deadline, reason) = (extended.by, extended.deadline, extended.reason)
        case let handled as IncidentHandled: by = handled.by
        case let verified as IncidentVerified: (by, passed) = (verified.by, verified.passed)
        case let reopened as IncidentReopened: (by, reason) = (reopened.by, reopened.reason)
        case let closed as IncidentClosed: (by, onTime, points) = (closed.by, closed.onTime, closed.points)
        case let overdue as IncidentOverdue: deadline = overdue.deadline
        case let sent as NotificationSent:
            (notificationId, incidentId, recipient, channel, latencyMs) = (
                sent.notificationId, sent.incidentId, sent.recipient, sent.channel, sent.latencyMs
            )
        case let failed as NotificationFailed:
            (notificationId, incidentId, recipient, channel, reason) = (
                failed.notificationId, failed.incidentId, failed.recipient, failed.channel, failed.reason
            )
        case let change as GridModeChanged:
            (scope, target, mode, by, reason) = (change.scope.rawValue, change.target, change.mode.rawValue, change.by, change.reason)
        default: break
        }
    }

    static func read(_ reader: inout JSONReader) throws -> Self {
        var data = Self()
        try reader.readObject { name, reader in
            switch name {
            case "incidentId": data.incidentId = try reader.readOptionalString()
            case "category": data.category = try reader.readOptionalString()
            case "grid": data.grid = try reader.readOptionalString()
            case "priority": data.priority = try reader.readOptional(Priority.self)
            case "deadline": data.deadline = try reader.readOptionalDate()
            case "assignees": data.assignees = try reader.readOptionalStrings()
            case "policy": data.policy = try reader.readOptionalString()
            case "passed": data.passed = try reader.readOptionalBool()
            case "onTime": data.onTime = try reader.readOptionalBool()
            case "points":
                if reader.readNull() { break }
                var points: [String: Int] = [:]
                try reader.readObject { member, reader in points[member] = try reader.readInt() }
                data.points = points
            case "notificationId": data.notificationId = try reader.readOptionalString()
            case "recipient": data.recipient = try reader.readOptionalString()
            case "channel": data.channel = try reader.readOptionalString()
            case "latencyMs": data.latencyMs = try reader.readOptionalInt()
            case "scope": data.scope = try reader.readOptionalString()
            case "target": data.target = try reader.readOptionalString()
            case "mode": data.mode = try reader.readOptionalString()
            case "by": data.by = try reader.readOptionalString()
            case "reason": data.reason = try reader.readOptionalString()
            case "level": data.level = try reader.readOptionalString()
            default: try reader.skipValue()
            }
        }
        return data
    }

    func write(to writer: inout JSONObjectWriter) {
        writer.string("incidentId", incidentId)
        writer.string("category", category)
        writer.string("grid", grid)
        writer.string("priority", priority?.rawValue)
        writer.date("deadline", deadline)
        writer.strings("assignees", assignees)
        writer.string("policy", policy)
        writer.bool("passed", passed)
        writer.bool("onTime", onTime)
        if let points { writer.object("points") { for (member, amount) in points.sorted(by: { $0.key < $1.key }) { $0.int(member, amount) } } }
        writer.string("notificationId", notificationId)
        writer.string("recipient", recipient)
        writer.string("channel", channel)
        writer.int("latencyMs", latencyMs)
        writer.string("scope", scope)
        writer.string("target", target)
        writer.string("mode", mode)
        writer.string("by", by)
        writer.string("reason", reason)
        writer.string("level", level)
    }
}
