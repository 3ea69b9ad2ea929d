import CZeroMQ

/// One libzmq socket.
///
/// Not `Sendable`, on purpose: libzmq sockets must be used by one thread at a time, so the
/// compiler stops a socket from being captured by another thread's closure. Create the socket
/// on the thread that owns it (see ``ZMQSocketThread``).
public final class ZMQSocket {
    let handle: UnsafeMutableRawPointer
    /// Kept so the context outlives its sockets (zmq_ctx_term waits for them).
    public let context: ZMQContext
    public let type: ZMQSocketType
    private var isClosed = false

    public init(context: ZMQContext, type: ZMQSocketType) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type.rawValue) else {
            throw ZMQError(code: zmq_errno(), operation: "zmq_socket(\(type))")
        }
        self.handle = handle
        self.context = context
        self.type = type
        // Unsent messages must never keep a process alive at exit; callers that want
        // a grace period set `linger` themselves.
        try setOption(ZMQ_LINGER, Int32(0), name: "linger")
    }

    deinit { close() }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        zmq_close(handle)
    }

    // MARK: Endpoints

    public func bind(_ endpoint: String) throws(ZMQError) {
        try zmqCall("bind \(endpoint)") { zmq_bind(handle, endpoint) }
    }

    public func connect(_ endpoint: String) throws(ZMQError) {
        try zmqCall("connect \(endpoint)") { zmq_connect(handle, endpoint) }
    }

    public func unbind(_ endpoint: String) throws(ZMQError) {
        try zmqCall("unbind \(endpoint)") { zmq_unbind(handle, endpoint) }
    }

    public func disconnect(_ endpoint: String) throws(ZMQError) {
        try zmqCall("disconnect \(endpoint)") { zmq_disconnect(handle, endpoint) }
    }

    /// The endpoint last bound, with the port the OS chose for `tcp://127.0.0.1:*`.
    public var lastEndpoint: String {
        get throws(ZMQError) { try stringOption(ZMQ_LAST_ENDPOINT, name: "last endpoint") }
    }

    // MARK: Sending

    /// Sends one frame.
    /// - Parameters:
    ///   - more: more frames of the same message follow.
    ///   - dontWait: return `false` instead of blocking when the high-water mark is reached.
    /// - Returns: `false` only when `dontWait` is set and the frame could not be queued.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, more: Bool = false, dontWait: Bool = false) throws(ZMQError) -> Bool {
        var flags: Int32 = 0
        if more { flags |= ZMQ_SNDMORE }
        if dontWait { flags |= ZMQ_DONTWAIT }
        do {
            try zmqCall("send") { zmq_send(handle, bytes.baseAddress, bytes.count, flags) }
            return true
        } catch  where error.isWouldBlock && dontWait {
            return false
        }
    }

    @discardableResult
    public func send(_ bytes: [UInt8], more: Bool = false, dontWait: Bool = false) throws(ZMQError) -> Bool {
        try withUnsafeBytesTyped(bytes) { (buffer) throws(ZMQError) -> Bool in
            try send(buffer, more: more, dontWait: dontWait)
        }
    }

    /// Sends an 8-byte big-endian integer frame (how GridBus carries sequences) without allocating.
    @discardableResult
    public func send(bigEndian value: UInt64, more: Bool = false, dontWait: Bool = false) throws(ZMQError) -> Bool {
        var wire = value.bigEndian
        let result: Result<Bool, ZMQError> = withUnsafeBytes(of: &wire) { buffer in
            do throws(ZMQError) { return .success(try send(buffer, more: more, dontWait: dontWait)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    @discardableResult
    public func send(_ string: String, more: Bool = false, dontWait: Bool = false) throws(ZMQError) -> Bool {
        try send(Array(string.utf8), more: more, dontWait: dontWait)
    }

    /// Sends a whole multipart message. With `dontWait`, `false` means nothing was sent:
    /// libzmq queues a multipart message atomically, so a refusal can only happen on the first frame.
    @discardableResult
    public func send(frames: [[UInt8]], dontWait: Bool = false) throws(ZMQError) -> Bool {
        precondition(!frames.isEmpty, "a message has at least one frame")
        for index in frames.indices {
            let sent = try send(frames[index], more: index < frames.count - 1, dontWait: dontWait)
            if !sent { return false }
        }
        return true
    }

    // MARK: Receiving

    /// Receives one frame; `nil` when `dontWait` is set and nothing is queued, or the receive timeout ran out.
    public func receiveFrame(dontWait: Bool = false) throws(ZMQError) -> (bytes: [UInt8], more: Bool)? {
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        do {
            try zmqCall("receive") { zmq_msg_recv(&message, handle, dontWait ? ZMQ_DONTWAIT : 0) }
        } catch  where error.isWouldBlock {
            return nil
        }
        return (Self.copyBytes(of: &message), zmq_msg_more(&message) == 1)
    }

    /// Receives a whole multipart message; `nil` when `dontWait` is set and nothing is queued
    /// (or the receive timeout ran out).
    ///
    /// - Parameter readUserID: also read the `User-Id` property that the ZAP handler set for the peer.
    public func receiveMessage(dontWait: Bool = false, readUserID: Bool = false) throws(ZMQError) -> ZMQMessage? {
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        do {
            try zmqCall("receive") { zmq_msg_recv(&message, handle, dontWait ? ZMQ_DONTWAIT : 0) }
        } catch  where error.isWouldBlock {
            return nil
        }
        // A ROUTER makes up the routing-id frame itself, without the peer's metadata: take the
        // property from the first frame that has it.
        var userID: String?
        if readUserID, let value = zmq_msg_gets(&message, "User-Id") { userID = String(cString: value) }
        var frames = [Self.copyBytes(of: &message)]
        // The remaining frames of a message are already queued: they never block.
        while zmq_msg_more(&message) == 1 {
            try zmqCall("receive") { zmq_msg_recv(&message, handle, 0) }
            frames.append(Self.copyBytes(of: &message))
            if readUserID, userID == nil, let value = zmq_msg_gets(&message, "User-Id") { userID = String(cString: value) }
        }
        return ZMQMessage(frames: frames, userID: userID)
    }

    private static func copyBytes(of message: inout zmq_msg_t) -> [UInt8] {
        let count = zmq_msg_size(&message)
        guard count > 0, let data = zmq_msg_data(&message) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: data, count: count))
    }
}

/// A received multipart message.
public struct ZMQMessage: Sendable, Hashable {
    public var frames: [[UInt8]]
    /// The identity the ZAP handler gave the peer (libzmq's `User-Id` property), when asked for.
    public var userID: String?

    public init(frames: [[UInt8]], userID: String? = nil) {
        self.frames = frames
        self.userID = userID
    }
}

/// `withUnsafeBytes` with a typed throw (the standard one rethrows `any Error`).
@inline(__always) @discardableResult
func withUnsafeBytesTyped<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
    let result: Result<R, ZMQError> = bytes.withUnsafeBytes { buffer in
        do throws(ZMQError) { return .success(try body(buffer)) } catch { return .failure(error) }
    }
    return try result.get()
}
