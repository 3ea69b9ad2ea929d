#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `notification.sent`: a person was told, through one channel.
public struct NotificationSent: EventPayload {
    public static let eventType = EventType.notificationSent
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var notificationId: String
    public var incidentId: String?
    public var recipient: String
    public var channel: String
    public var attempts: Int
    public var latencyMs: Int

    public init(notificationId: String, incidentId: String? = nil, recipient: String, channel: String, attempts: Int, latencyMs: Int) {
        self.notificationId = notificationId
        self.incidentId = incidentId
        self.recipient = recipient
        self.channel = channel
        self.attempts = attempts
        self.latencyMs = latencyMs
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion, .required("notificationId", .string(maxLength: 128)), .optional("incidentId", .string(maxLength: 128)),
        .required("recipient", Fields.memberID), .required("channel", .string(maxLength: 64)),
        .required("attempts", .integer(minimum: 1)), .required("latencyMs", .integer(minimum: 0)),
    ])
    public static let example = NotificationSent(
        notificationId: "n-1",
        incidentId: "inc-0001",
        recipient: "m-17",
        channel: "sms",
        attempts: 1,
        latencyMs: 42
    )
    public static let minimalExample = NotificationSent(notificationId: "n-1", recipient: "m-17", channel: "sms", attempts: 1, latencyMs: 42)
}

/// `notification.failed`: a channel gave up for good.
public struct NotificationFailed: EventPayload {
    public static let eventType = EventType.notificationFailed
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var notificationId: String
    public var incidentId: String?
    public var recipient: String
    public var channel: String
    public var attempts: Int
    public var reason: String

    public init(notificationId: String, incidentId: String? = nil, recipient: String, channel: String, attempts: Int, reason: String) {
        self.notificationId = notificationId
        self.incidentId = incidentId
        self.recipient = recipient
        self.channel = channel
        self.attempts = attempts
        self.reason = reason
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion, .required("notificationId", .string(maxLength: 128)), .optional("incidentId", .string(maxLength: 128)),
        .required("recipient", Fields.memberID), .required("channel", .string(maxLength: 64)),
        .required("attempts", .integer(minimum: 1)), .required("reason", .string(maxLength: 1000)),
    ])
    public static let example = NotificationFailed(
        notificationId: "n-1",
        incidentId: "inc-0001",
        recipient: "m-17",
        channel: "sms",
        attempts: 5,
        reason: "gateway 503"
    )
    public static let minimalExample = NotificationFailed(
        notificationId: "n-1",
        recipient: "m-17",
        channel: "sms",
        attempts: 5,
        reason: "gateway 503"
    )
}

/// `grid.mode.changed`: grids switched between normal and emergency mode.
public struct GridModeChanged: EventPayload {
    public enum Scope: String, Sendable, Hashable, Codable, CaseIterable { case grid, community, town, district }
    public enum Mode: String, Sendable, Hashable, Codable, CaseIterable { case normal, emergency }
    public static let eventType = EventType.gridModeChanged
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    public var scope: Scope
    /// The grid, community or town id; the district's id for `district`.
    public var target: String
    public var mode: Mode
    public var by: String
    public var reason: String?

    public init(scope: Scope, target: String, mode: Mode, by: String, reason: String? = nil) {
        self.scope = scope
        self.target = target
        self.mode = mode
        self.by = by
        self.reason = reason
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion,
        .required("scope", .string(enumeration: Scope.allCases.map(\.rawValue))), .required("target", .string(maxLength: 64)),
        .required("mode", .string(enumeration: Mode.allCases.map(\.rawValue))), .required("by", Fields.memberID),
        .optional("reason", Fields.note),
    ])
    public static let example = GridModeChanged(scope: .community, target: "C-01-01", mode: .emergency, by: "operator", reason: "typhoon")
    public static let minimalExample = GridModeChanged(scope: .grid, target: "G-01-01-01", mode: .normal, by: "operator")
}

/// `bus.heartbeat`: sent by the daemon every second (not journaled), so subscribers see gaps.
public struct BusHeartbeat: EventPayload {
    public static let eventType = EventType.busHeartbeat
    public static let currentSchemaVersion = 1
    public var schemaVersion = currentSchemaVersion
    /// The last sequence journaled.
    public var head: UInt64
    /// The oldest sequence still in the journal (retention removes older ones); 0 when empty.
    public var tail: UInt64

    public init(head: UInt64, tail: UInt64) {
        self.head = head
        self.tail = tail
    }

    public static let schema = JSONSchema.object([
        Fields.schemaVersion, .required("head", .integer(minimum: 0)), .required("tail", .integer(minimum: 0)),
    ])
    public static let example = BusHeartbeat(head: 42, tail: 1)
    public static let minimalExample = example
}
