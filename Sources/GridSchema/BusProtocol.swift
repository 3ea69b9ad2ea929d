import GridJSON

/// The frames of the bus's three sockets, shared by the daemon and every client
/// (docs/protocol.md is the prose version of this file).
///
/// Integers in frames (sequences, limits) are 8-byte big-endian unsigned.
public enum BusProtocol {
    // Ingress (ROUTER; clients use DEALER, or REQ which adds an empty delimiter frame).
    /// `PUB token event` → `ACK token sequence` or `NACK token code reason`.
    /// `PUB token event token event …` publishes up to ``maximumEventsPerPublish`` events in one
    /// message; the ACKs of its events come back together, `ACK token sequence token sequence …`,
    /// and each refusal in a NACK of its own.
    public static let publish = Array("PUB".utf8)
    public static let maximumEventsPerPublish = 1000
    public static let ack = Array("ACK".utf8)
    public static let nack = Array("NACK".utf8)

    // Replay (ROUTER).
    /// `REPLAY from limit prefix…` → `EVENT topic sequence event` (0 to `limit` of them) then `END next head`.
    public static let replay = Array("REPLAY".utf8)
    public static let event = Array("EVENT".utf8)
    public static let end = Array("END".utf8)
    /// `STATUS` → `STATUS json`.
    public static let status = Array("STATUS".utf8)
    /// `PING` → `PONG head`.
    public static let ping = Array("PING".utf8)
    public static let pong = Array("PONG".utf8)
    /// Any refused request → `ERROR code reason`.
    public static let error = Array("ERROR".utf8)

    // Egress (XPUB): `topic sequence event`. A subscriber built on XSUB may send upstream
    // `\u{02}` followed by a JSON cursor report: {"subscriber": name, "cursor": sequence}.
    public static let cursorReportMarker: UInt8 = 0x02

    // Egress chains: `chain topic sequence previous event`. A subscription to a chain key (the
    // prefixes it covers, `bus.chain/p1|p2|…` and a newline) also registers the chain: the daemon
    // then sends a copy of every event matching one of its prefixes on the chain's topic, carrying
    // the sequence of the chain's previous event, so that a filtered subscriber proves from the live
    // stream alone that it missed nothing (docs/protocol.md, "Chains").
    public static let chainTopic = Array("bus.chain/".utf8)
    static let chainSeparator = UInt8(ascii: "|")
    /// Ends every key, and appears in no prefix: no chain's key is then a prefix of another's, so a
    /// subscription to one chain never receives another chain's copies.
    static let chainEnd = UInt8(ascii: "\n")

    /// The key of the chain over `prefixes` (sorted, repeats dropped); nil when there is nothing to
    /// chain (no prefix, or the empty prefix, whose sequences are contiguous anyway) or a prefix holds
    /// the separator or a newline.
    public static func chainKey(prefixes: [String]) -> [UInt8]? {
        let listed = Set(prefixes.map { Array($0.utf8) }).sorted { $0.lexicographicallyPrecedes($1) }
        guard !listed.isEmpty, listed.allSatisfy({ !$0.isEmpty && !$0.contains(chainSeparator) && !$0.contains(chainEnd) }) else { return nil }
        return chainTopic + Array(listed.joined(separator: [chainSeparator])) + [chainEnd]
    }

    /// The prefixes a chain key names; nil when `subscription` is not a whole chain key.
    public static func chainPrefixes(ofKey subscription: some Collection<UInt8>) -> [[UInt8]]? {
        guard subscription.starts(with: chainTopic) else { return nil }
        let key = Array(subscription)
        guard key.last == chainEnd else { return nil }
        let body = key.dropFirst(chainTopic.count).dropLast()
        guard !body.contains(chainEnd) else { return nil }
        let prefixes = body.split(separator: chainSeparator, omittingEmptySubsequences: false).map { Array($0) }
        return prefixes.contains(where: \.isEmpty) ? nil : prefixes
    }

    /// Why the daemon refused a request: the NACK/ERROR code frame.
    public enum Refusal: String, Sendable, CaseIterable {
        case malformed, invalid
        case tooLarge = "too-large"
        case unknownType = "unknown-type"
        case overloaded, storage
        case unknownCommand = "unknown-command"
        case forbidden
        /// This node of a cluster does not journal: the reason is the leader's ingress endpoint
        /// (empty while no leader is known). Send the same event there, with the same id.
        case notLeader = "not-leader"

        public init(_ code: EnvelopeError.Code) {
            switch code {
            case .malformed: self = .malformed
            case .invalid: self = .invalid
            case .unknownType: self = .unknownType
            case .tooLarge: self = .tooLarge
            }
        }

        /// Whether a publisher should retry the same event later.
        public var isRetryable: Bool { self == .overloaded || self == .storage || self == .notLeader }
    }

    public static func encode(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    public static func decodeInteger(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// What a subscriber tells the daemon upstream on the egress, after ``BusProtocol/cursorReportMarker``:
/// how far it got, so that `gridctl status` and `/metrics` can show who lags (docs/protocol.md).
public struct CursorReport: Sendable, Codable, Equatable {
    /// The subscription's name (at most 128 bytes).
    public var subscriber: String
    /// The last sequence it handled.
    public var cursor: UInt64
    /// True when it leaves on purpose (a graceful stop): not to be reported as lagging.
    public var closing: Bool?

    public init(subscriber: String, cursor: UInt64, closing: Bool? = nil) {
        self.subscriber = subscriber
        self.cursor = cursor
        self.closing = closing
    }

    /// The frame: the marker, then the report as JSON.
    public func frame() -> [UInt8] {
        [BusProtocol.cursorReportMarker] + ((try? JSONTreeEncoder().encode(self)) ?? [])
    }

    /// A frame's report; nil for one that is not a cursor report or does not read as one.
    public init?(frame: [UInt8]) {
        guard frame.first == BusProtocol.cursorReportMarker, let report = try? JSONTreeDecoder().decode(Self.self, from: Array(frame.dropFirst()))
        else { return nil }
        self = report
    }
}
