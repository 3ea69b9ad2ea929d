import GridJSON
import GridSchema
import ZeroMQ

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Requests on the replay socket: `REPLAY`, `STATUS`, `PING`. One request at a time; every call
/// has a timeout, and after a timeout the socket is replaced so that a late answer cannot be
/// taken for the next one.
public actor BusRequester {
    private let context: ZMQContext
    private let endpoint: String
    private var socket: ZMQAsyncSocket?

    private let credentials: BusCredentials?

    public init(context: ZMQContext, endpoint: String, credentials: BusCredentials? = nil) {
        self.credentials = credentials
        self.context = context
        self.endpoint = endpoint
    }

    /// One batch of a replay.
    public struct ReplayBatch: Sendable {
        public var events: [BusEvent]
        /// Ask again after this sequence; when it has reached `head`, the replay is done.
        public var next: UInt64
        public var head: UInt64
        /// The oldest sequence still journaled (0 when the journal is empty).
        public var tail: UInt64
        public var isComplete: Bool { next >= head }
    }

    /// Events after `sequence` whose topic starts with one of `prefixes` (all events for `[""]`).
    public func replay(
        after sequence: UInt64,
        prefixes: [String] = [""],
        limit: Int = 5000,
        timeout: Duration = .seconds(10)
    ) async throws -> ReplayBatch {
        let request = [BusProtocol.replay, BusProtocol.encode(sequence), BusProtocol.encode(UInt64(limit))] + prefixes.map { Array($0.utf8) }
        var events: [BusEvent] = []
        return try await exchange(request, operation: "REPLAY", timeout: timeout) { (frames) throws -> ReplayBatch? in
            switch frames.first {
            case BusProtocol.event?:
                guard frames.count == 4, let sequence = BusProtocol.decodeInteger(frames[2]) else {
                    throw BusClientError.protocolViolation("EVENT takes topic, sequence, event")
                }
                events.append(BusEvent(sequence: sequence, topic: String(decoding: frames[1], as: UTF8.self), bytes: frames[3]))
                return nil
            case BusProtocol.end?:
                guard frames.count == 4, let next = BusProtocol.decodeInteger(frames[1]), let head = BusProtocol.decodeInteger(frames[2]),
                    let tail = BusProtocol.decodeInteger(frames[3])
                else { throw BusClientError.protocolViolation("END takes next, head, tail") }
                return ReplayBatch(events: events, next: next, head: head, tail: tail)
            default:
                throw Self.refusal(frames)
            }
        }
    }

    /// The daemon's status (head, journal, subscribers).
    public func status(timeout: Duration = .seconds(5)) async throws -> BusStatus {
        try await exchange([BusProtocol.status], operation: "STATUS", timeout: timeout) { (frames) throws -> BusStatus? in
            guard frames.first == BusProtocol.status, frames.count == 2 else { throw Self.refusal(frames) }
            return try JSONTreeDecoder().decode(BusStatus.self, from: frames[1])
        }
    }

    /// The head sequence; a cheap liveness check.
    public func ping(timeout: Duration = .seconds(5)) async throws -> UInt64 {
        try await exchange([BusProtocol.ping], operation: "PING", timeout: timeout) { (frames) throws -> UInt64? in
            guard frames.first == BusProtocol.pong, frames.count == 2, let head = BusProtocol.decodeInteger(frames[1]) else {
                throw Self.refusal(frames)
            }
            return head
        }
    }

    public func close() async {
        await socket?.close()
        socket = nil
    }

    // MARK: Private

    /// Sends `request`, then feeds answers to `handle` until it returns a value.
    private func exchange<T: Sendable>(
        _ request: [[UInt8]],
        operation: String,
        timeout: Duration,
        handle: ([[UInt8]]) throws -> T?
    ) async throws -> T {
        let socket = try await connectedSocket()
        try await socket.send(request)
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = deadline - ContinuousClock.now
            switch await socket.receive(timeout: max(remaining, .zero)) {
            case .element(let message):
                if let result = try handle(message.frames) { return result }
            case .closed:
                self.socket = nil
                throw BusClientError.closed
            case .timedOut:
                await socket.close()
                self.socket = nil
                let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
                throw BusClientError.timeout(operation: operation, endpoint: endpoint, seconds: seconds)
            }
        }
    }

    private func connectedSocket() async throws -> ZMQAsyncSocket {
        if let socket { return socket }
        let endpoint = self.endpoint
        let credentials = self.credentials
        let socket = try await ZMQAsyncSocket(context: context, type: .dealer, name: "replay-client", capacity: 20_000) { socket in
            try socket.setReceiveHighWaterMark(0)
            try credentials?.apply(to: socket)
            // A cluster's nodes all serve replay and status.
            try socket.connect(toEveryNodeOf: endpoint)
            return endpoint
        }
        self.socket = socket
        return socket
    }

    private static func refusal(_ frames: [[UInt8]]) -> BusClientError {
        if frames.first == BusProtocol.error, frames.count == 3 {
            return .refused(code: String(decoding: frames[1], as: UTF8.self), reason: String(decoding: frames[2], as: UTF8.self))
        }
        return .protocolViolation("unexpected answer \(String(decoding: frames.first ?? [], as: UTF8.self))")
    }
}
