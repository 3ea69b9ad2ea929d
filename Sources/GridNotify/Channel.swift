import Foundation
import GridJSON
import GridSchema

/// Which address of a recipient a channel sends to.
public enum ContactKind: String, Sendable, CaseIterable {
    case phone, email, webhook
    /// Needs no address (the log file; a webhook gateway with its own URL).
    case none
}

/// Someone to tell, with the addresses the channels need.
public struct Recipient: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var language: String
    public var phone: String?
    public var email: String?
    public var webhook: String?
    /// Grid role (`grid-chief`, …) for quiet hours; nil for operators and reporters.
    public var role: String?

    public init(id: String, name: String, language: String, phone: String? = nil, email: String? = nil, webhook: String? = nil, role: String? = nil) {
        self.id = id
        self.name = name
        self.language = language
        self.phone = phone
        self.email = email
        self.webhook = webhook
        self.role = role
    }

    public func address(for kind: ContactKind) -> String? {
        switch kind {
        case .phone: phone
        case .email: email
        case .webhook: webhook
        case .none: ""
        }
    }
}

/// One notice inside a message, as channels receive it.
public struct NoticeSummary: Sendable, Codable, Equatable {
    /// The notification id (`notification.sent` carries it too): stable across retries and restarts.
    public var id: String
    public var incidentId: String?
    public var type: String
    public var text: String
    public var facts: [String: String]

    public init(id: String, incidentId: String?, type: String, text: String, facts: [String: String]) {
        self.id = id
        self.incidentId = incidentId
        self.type = type
        self.text = text
        self.facts = facts
    }
}

/// What a channel is asked to deliver: one message for one recipient.
public struct Envelope: Sendable, Codable {
    /// Stable across retries and restarts: receivers use it to drop a message they already have.
    public var messageId: String
    public var channel: String
    public var recipient: Recipient
    /// The recipient's address on this channel (empty for channels that need none).
    public var address: String
    public var subject: String
    public var text: String
    public var notifications: [NoticeSummary]
    public var attempt: Int

    public init(
        messageId: String,
        channel: String,
        recipient: Recipient,
        address: String,
        subject: String,
        text: String,
        notifications: [NoticeSummary],
        attempt: Int
    ) {
        self.messageId = messageId
        self.channel = channel
        self.recipient = recipient
        self.address = address
        self.subject = subject
        self.text = text
        self.notifications = notifications
        self.attempt = attempt
    }
}

public enum DeliveryOutcome: Sendable, Equatable {
    case delivered(providerMessageId: String?)
    /// Worth trying again later (a timeout, a 5xx, EX_TEMPFAIL).
    case retry(String)
    /// Will not work on this channel (a 4xx, a plugin's failure exit).
    case failed(String)
}

/// A way of reaching people: built in (webhook, log file) or a plugin run per message.
public protocol NotificationChannel: Sendable {
    var name: String { get }
    var contact: ContactKind { get }
    var style: MessageStyle { get }
    /// Messages in flight at once on this channel.
    var concurrency: Int { get }
    func deliver(_ envelope: Envelope) async -> DeliveryOutcome
}

/// GridJSON's format, without Foundation's cost (one message per notice).
let envelopeEncoder = JSONTreeEncoder()
