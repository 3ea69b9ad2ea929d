import GridSchema

/// One event as the bus delivered it: its sequence, topic frame and the CloudEvent's bytes.
public struct BusEvent: Sendable, Hashable {
    public let sequence: UInt64
    public let topic: String
    public let bytes: [UInt8]

    public init(sequence: UInt64, topic: String, bytes: [UInt8]) {
        self.sequence = sequence
        self.topic = topic
        self.bytes = bytes
    }

    /// Decodes the CloudEvent (Codable; do it in the worker, never on the bus's hot path).
    public func decode() throws -> CloudEvent { try CloudEvent.decode(bytes) }

    /// The CloudEvent JSON as text, as `gridctl tail` prints it.
    public var json: String { String(decoding: bytes, as: UTF8.self) }
}

/// Why a bus request failed.
public enum BusClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No answer in time: the daemon is down, unreachable or overloaded.
    case timeout(operation: String, endpoint: String, seconds: Double)
    /// The daemon refused the request, with its code and reason.
    case refused(code: String, reason: String)
    /// The answer did not follow docs/protocol.md.
    case protocolViolation(String)
    /// The client was shut down.
    case closed

    public var description: String {
        switch self {
        case .timeout(let operation, let endpoint, let seconds):
            "no answer to \(operation) from \(endpoint) within \(seconds)s: is gridbusd running and reachable?"
        case .refused(let code, let reason): "refused (\(code)): \(reason)"
        case .protocolViolation(let what): "protocol violation: \(what)"
        case .closed: "the bus client was closed"
        }
    }
}
