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

    /// Why the daemon refused a request: the NACK/ERROR code frame.
    public enum Refusal: String, Sendable, CaseIterable {
        case malformed, invalid
        case tooLarge = "too-large"
        case unknownType = "unknown-type"
        case overloaded, storage
        case unknownCommand = "unknown-command"
        case forbidden

        public init(_ code: EnvelopeError.Code) {
            switch code {
            case .malformed: self = .malformed
            case .invalid: self = .invalid
            case .unknownType: self = .unknownType
            case .tooLarge: self = .tooLarge
            }
        }

        /// Whether a publisher should retry the same event later.
        public var isRetryable: Bool { self == .overloaded || self == .storage }
    }

    public static func encode(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    public static func decodeInteger(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
