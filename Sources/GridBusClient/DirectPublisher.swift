import GridSchema
import ZeroMQ

/// Publishes one event and waits for the bus's answer, without an outbox: for operators
/// (`gridctl publish`) and tools that report the outcome themselves. Workers use ``ReliablePublisher``.
public actor DirectPublisher {
    private let context: ZMQContext
    private let endpoint: String
    private var socket: ZMQAsyncSocket?
    private var nextToken: UInt64 = .random(in: 1 ... .max / 2)

    private let credentials: BusCredentials?

    public init(context: ZMQContext, endpoint: String, credentials: BusCredentials? = nil) {
        self.credentials = credentials
        self.context = context
        self.endpoint = endpoint
    }

    /// Publishes an event's bytes; returns its sequence (the original one if the bus had it already).
    /// Sends again every `resendInterval` until `timeout`: the bus de-duplicates by `(source, id)`.
    /// - Throws: ``BusClientError/refused(code:reason:)`` on a NACK, ``BusClientError/timeout(operation:endpoint:seconds:)``.
    public func publish(_ bytes: [UInt8], timeout: Duration = .seconds(5), resendInterval: Duration = .seconds(1)) async throws -> UInt64 {
        let socket = try await connectedSocket()
        let nodes = BusEndpoints.list(endpoint).count
        nextToken += 1
        let token = BusProtocol.encode(nextToken)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            try await socket.send([BusProtocol.publish, token, bytes])
            let resendAt = min(deadline, ContinuousClock.now + resendInterval)
            while ContinuousClock.now < resendAt {
                guard case .element(let message) = await socket.receive(timeout: resendAt - ContinuousClock.now) else { break }
                let frames = message.frames
                guard frames.count >= 2, frames[1] == token else { continue }  // a late answer to an earlier call
                if frames[0] == BusProtocol.ack, frames.count == 3, let sequence = BusProtocol.decodeInteger(frames[2]) { return sequence }
                if frames[0] == BusProtocol.nack, frames.count == 4, frames[2] == Array(BusProtocol.Refusal.notLeader.rawValue.utf8),
                    nodes > 1
                {
                    // Round the cluster's nodes to the leader: the next send goes to the next one.
                    try await Task.sleep(for: .milliseconds(50))
                    break
                }
                if frames[0] == BusProtocol.nack, frames.count == 4 {
                    throw BusClientError.refused(code: String(decoding: frames[2], as: UTF8.self), reason: String(decoding: frames[3], as: UTF8.self))
                }
                throw BusClientError.protocolViolation("unexpected answer to PUB")
            }
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        throw BusClientError.timeout(operation: "PUB", endpoint: endpoint, seconds: seconds)
    }

    public func publish(_ event: CloudEvent, timeout: Duration = .seconds(5)) async throws -> UInt64 {
        try event.validate()
        return try await publish(try event.jsonBytes(), timeout: timeout)
    }

    public func close() async {
        await socket?.close()
        socket = nil
    }

    private func connectedSocket() async throws -> ZMQAsyncSocket {
        if let socket { return socket }
        let endpoint = self.endpoint
        let credentials = self.credentials
        let socket = try await ZMQAsyncSocket(context: context, type: .dealer, name: "direct-publisher") { socket in
            try credentials?.apply(to: socket)
            // A cluster's nodes: a PUB goes to the next connected one; `not-leader` sends it on.
            try socket.connect(toEveryNodeOf: endpoint)
            return endpoint
        }
        self.socket = socket
        return socket
    }
}
