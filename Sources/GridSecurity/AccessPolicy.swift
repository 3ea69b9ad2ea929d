import GridConfiguration
import GridSchema
import ZeroMQ

/// Who may reach the bus and what each may touch.
public struct Identity: Sendable, Hashable {
    public let name: String
    public let publicKey: ZMQCurveKey
    public let publish: [TopicPattern]
    public let subscribe: [TopicPattern]
    /// Where it was defined (the access file or a plugin manifest), for error messages.
    public let definedIn: String

    public init(name: String, publicKey: ZMQCurveKey, publish: [TopicPattern], subscribe: [TopicPattern], definedIn: String) {
        self.name = name
        self.publicKey = publicKey
        self.publish = publish
        self.subscribe = subscribe
        self.definedIn = definedIn
    }

    public func mayPublish(topic: some Collection<UInt8>) -> Bool { publish.contains { $0.admits(topic: topic) } }

    /// Every authenticated identity may read the bus heartbeat: it carries only sequence numbers,
    /// and subscribers need it to notice missed events. A chain carries the events of the prefixes
    /// its key names, so it is open to whoever may read every one of them.
    public func maySubscribe(prefix: some Collection<UInt8>) -> Bool {
        if let chained = BusProtocol.chainPrefixes(ofKey: prefix) { return chained.allSatisfy { maySubscribe(prefix: $0) } }
        return prefix.starts(with: Self.heartbeatType) || subscribe.contains { $0.covers(subscription: prefix) }
    }

    static let heartbeatType = Array(EventType.busHeartbeat.rawValue.utf8)
}

/// The identities the ZAP handler admits, by public key, and their access lists.
public struct AccessPolicy: Sendable {
    public let identities: [String: Identity]
    private let byKey: [ZMQCurveKey: String]

    public static let empty = AccessPolicy(checked: [])

    /// Refuses two identities with one name or one key: a key must say who is speaking.
    public init(identities: [Identity]) throws(DefinitionError) {
        var names: [String: Identity] = [:]
        var keys: [ZMQCurveKey: Identity] = [:]
        for identity in identities {
            if let other = names[identity.name] {
                throw DefinitionError(
                    file: identity.definedIn,
                    field: "name",
                    reason: "identity '\(identity.name)' is also defined in \(other.definedIn)"
                )
            }
            if let other = keys[identity.publicKey] {
                throw DefinitionError(
                    file: identity.definedIn,
                    field: "key",
                    reason: "identity '\(identity.name)' uses the same public key as '\(other.name)' (\(other.definedIn)); give each its own key pair"
                )
            }
            names[identity.name] = identity
            keys[identity.publicKey] = identity
        }
        self.init(checked: identities)
    }

    private init(checked identities: [Identity]) {
        self.identities = Dictionary(uniqueKeysWithValues: identities.map { ($0.name, $0) })
        self.byKey = Dictionary(uniqueKeysWithValues: identities.map { ($0.publicKey, $0.name) })
    }

    public func identity(forKey key: ZMQCurveKey) -> Identity? { byKey[key].flatMap { identities[$0] } }
    public func identity(named name: String) -> Identity? { identities[name] }
}
