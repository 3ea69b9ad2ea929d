import CZeroMQ

/// Socket lifecycle events, from `zmq_socket_monitor`.
public struct ZMQMonitorEvent: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case connected, connectDelayed, connectRetried, listening, bindFailed, accepted, acceptFailed
        case closed, closeFailed, disconnected, monitorStopped
        case handshakeFailedNoDetail, handshakeSucceeded, handshakeFailedProtocol, handshakeFailedAuth
        case other(UInt16)

        init(code: UInt16) {
            switch Int32(code) {
            case ZMQ_EVENT_CONNECTED: self = .connected
            case ZMQ_EVENT_CONNECT_DELAYED: self = .connectDelayed
            case ZMQ_EVENT_CONNECT_RETRIED: self = .connectRetried
            case ZMQ_EVENT_LISTENING: self = .listening
            case ZMQ_EVENT_BIND_FAILED: self = .bindFailed
            case ZMQ_EVENT_ACCEPTED: self = .accepted
            case ZMQ_EVENT_ACCEPT_FAILED: self = .acceptFailed
            case ZMQ_EVENT_CLOSED: self = .closed
            case ZMQ_EVENT_CLOSE_FAILED: self = .closeFailed
            case ZMQ_EVENT_DISCONNECTED: self = .disconnected
            case ZMQ_EVENT_MONITOR_STOPPED: self = .monitorStopped
            case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: self = .handshakeFailedNoDetail
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: self = .handshakeSucceeded
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: self = .handshakeFailedProtocol
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: self = .handshakeFailedAuth
            default: self = .other(code)
            }
        }
    }

    public let kind: Kind
    /// The event's value: a file descriptor, an errno, a reconnect interval or a status code, by kind.
    public let value: UInt32
    public let endpoint: String

    /// Parses the two frames a monitor PAIR socket receives: 6 bytes of event and value, then the endpoint.
    public init?(_ message: ZMQMessage) {
        guard message.frames.count == 2, message.frames[0].count == 6 else { return nil }
        let head = message.frames[0]
        kind = Kind(code: UInt16(head[0]) | UInt16(head[1]) << 8)  // host order (little-endian here)
        value = UInt32(head[2]) | UInt32(head[3]) << 8 | UInt32(head[4]) << 16 | UInt32(head[5]) << 24
        endpoint = String(decoding: message.frames[1], as: UTF8.self)
    }

    public var description: String { "\(kind) \(endpoint) (\(value))" }
}

extension ZMQSocket {
    /// Publishes this socket's events on an inproc PAIR endpoint; connect a ``ZMQSocketType/pair``
    /// socket to `endpoint` and parse what it receives with ``ZMQMonitorEvent/init(_:)``.
    public func startMonitor(endpoint: String, events: Int32 = ZMQ_EVENT_ALL) throws(ZMQError) {
        try zmqCall("zmq_socket_monitor \(endpoint)") { zmq_socket_monitor(handle, endpoint, events) }
    }
}
