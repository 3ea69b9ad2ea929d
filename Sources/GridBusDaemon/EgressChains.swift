import GridSchema

/// The chains the egress keeps (docs/protocol.md, "Chains"): for each chain key someone subscribes
/// to, the prefixes it covers and the sequence of the last event sent that matched one of them.
///
/// A subscriber with narrow prefixes sees sequences skip other topics, so a jump proves nothing.
/// On its chain, every copy names the chain's previous event: when that is at or below the
/// subscriber's cursor, nothing it wanted was missed, and the event is handled straight from the
/// live stream instead of through a replay round trip.
struct EgressChains {
    struct Chain {
        let key: [UInt8]
        let prefixes: [[UInt8]]
        /// The identity that registered it (nil without access lists): it counts against that
        /// identity's share while anyone subscribes to it.
        let owner: String?
        /// The last matching sequence sent. A chain registered mid-stream starts from the last
        /// sequence sent on the egress: no smaller than the truth, so a subscriber may catch up once
        /// too often, never once too few.
        var previous: UInt64
    }

    /// Chains beyond this many are not registered (their subscriptions still apply; those
    /// subscribers receive heartbeats only and catch up through replay).
    static let limit = 256
    /// Chains one identity may register, so that one identity allowed to subscribe cannot take
    /// every chain and push the others back to replaying. A worker needs one chain per prefix set.
    static let limitPerIdentity = 16

    enum Registration: Equatable {
        /// Registered now, or already kept.
        case kept
        /// Not a chain key: an ordinary subscription.
        case notAKey
        /// Refused: `limit` chains are kept.
        case full
        /// Refused: the identity registered `limitPerIdentity` chains that are still kept.
        case identityFull
    }

    private(set) var chains: [Chain] = []

    var count: Int { chains.count }

    /// Registers the chain named by `subscription` when it is a chain key and neither limit is
    /// reached. A chain someone already registered is shared, whoever asks.
    @discardableResult
    mutating func register(_ subscription: [UInt8], lastSent: UInt64, owner: String? = nil) -> Registration {
        guard let prefixes = BusProtocol.chainPrefixes(ofKey: subscription) else { return .notAKey }
        guard !chains.contains(where: { $0.key == subscription }) else { return .kept }
        guard chains.count < Self.limit else { return .full }
        if let owner, chains.count(where: { $0.owner == owner }) >= Self.limitPerIdentity { return .identityFull }
        chains.append(Chain(key: subscription, prefixes: prefixes, owner: owner, previous: lastSent))
        return .kept
    }

    /// Forgets a chain nobody subscribes to any more.
    mutating func remove(_ subscription: [UInt8]) {
        chains.removeAll { $0.key == subscription }
    }

    mutating func removeAll() { chains.removeAll() }

    /// What a requested subscription is applied as. Every chain topic starts with `bus.chain/`, and
    /// so with each shorter prefix of it: the empty prefix, `b`, … `bus.chain`. A subscriber that asks
    /// for one of those wants events, not every chain's copies too, so it gets one subscription per
    /// event type it covers (types are a closed set: the ingress refuses others). Anything else is
    /// applied as asked, chain keys included.
    static func applied(forRequested prefix: [UInt8]) -> [[UInt8]] {
        guard prefix.count < BusProtocol.chainTopic.count, BusProtocol.chainTopic.starts(with: prefix) else { return [prefix] }
        return EventType.allCases.map { Array(Topic.prefix(forType: $0).utf8) }.filter { $0.starts(with: prefix) }
    }

    /// Calls `send` with each chain the topic belongs to and that chain's previous event, then makes
    /// `sequence` the chain's latest.
    mutating func advance<Failure: Error>(
        topic: [UInt8],
        sequence: UInt64,
        send: (_ key: [UInt8], _ previous: UInt64) throws(Failure) -> Void
    ) throws(Failure) {
        for index in chains.indices where Topic.matches(topic, anyOf: chains[index].prefixes) {
            try send(chains[index].key, chains[index].previous)
            chains[index].previous = sequence
        }
    }
}
