import CZeroMQ

/// Typed access to the socket options GridBus uses. Each setter throws ``ZMQError`` naming the option.
extension ZMQSocket {
    // MARK: Queues and lifetime

    /// Outgoing queue limit in messages (`ZMQ_SNDHWM`); 0 means unbounded.
    public func setSendHighWaterMark(_ messages: Int32) throws(ZMQError) { try setOption(ZMQ_SNDHWM, messages, name: "send high-water mark") }
    /// Incoming queue limit in messages (`ZMQ_RCVHWM`); 0 means unbounded.
    public func setReceiveHighWaterMark(_ messages: Int32) throws(ZMQError) { try setOption(ZMQ_RCVHWM, messages, name: "receive high-water mark") }
    /// How long unsent messages are kept after close, in ms (`ZMQ_LINGER`); sockets start at 0 here.
    public func setLinger(milliseconds: Int32) throws(ZMQError) { try setOption(ZMQ_LINGER, milliseconds, name: "linger") }
    /// Blocking send timeout in ms (`ZMQ_SNDTIMEO`); -1 waits forever.
    public func setSendTimeout(milliseconds: Int32) throws(ZMQError) { try setOption(ZMQ_SNDTIMEO, milliseconds, name: "send timeout") }
    /// Blocking receive timeout in ms (`ZMQ_RCVTIMEO`); -1 waits forever.
    public func setReceiveTimeout(milliseconds: Int32) throws(ZMQError) { try setOption(ZMQ_RCVTIMEO, milliseconds, name: "receive timeout") }
    /// Largest inbound message accepted, in bytes (`ZMQ_MAXMSGSIZE`); larger ones drop the connection.
    public func setMaximumMessageSize(_ bytes: Int64) throws(ZMQError) { try setOption(ZMQ_MAXMSGSIZE, bytes, name: "maximum message size") }
    /// Queue only to completed connections (`ZMQ_IMMEDIATE`).
    public func setImmediate(_ on: Bool) throws(ZMQError) { try setOption(ZMQ_IMMEDIATE, Int32(on ? 1 : 0), name: "immediate") }
    /// Reconnect interval in ms (`ZMQ_RECONNECT_IVL`) and its exponential back-off ceiling (`ZMQ_RECONNECT_IVL_MAX`).
    public func setReconnectInterval(milliseconds: Int32, maximum: Int32 = 0) throws(ZMQError) {
        try setOption(ZMQ_RECONNECT_IVL, milliseconds, name: "reconnect interval")
        try setOption(ZMQ_RECONNECT_IVL_MAX, maximum, name: "reconnect interval maximum")
    }

    // MARK: ZMTP heartbeats (dead-peer detection)

    /// Sends a ZMTP PING every `interval` ms and drops the connection when nothing arrives within `timeout` ms.
    public func setHeartbeat(intervalMilliseconds: Int32, timeoutMilliseconds: Int32, ttlMilliseconds: Int32 = 0) throws(ZMQError) {
        try setOption(ZMQ_HEARTBEAT_IVL, intervalMilliseconds, name: "heartbeat interval")
        try setOption(ZMQ_HEARTBEAT_TIMEOUT, timeoutMilliseconds, name: "heartbeat timeout")
        if ttlMilliseconds > 0 { try setOption(ZMQ_HEARTBEAT_TTL, ttlMilliseconds, name: "heartbeat ttl") }
    }

    // MARK: Identities and routing

    /// The routing id this socket presents to a ROUTER peer (`ZMQ_ROUTING_ID`), 1–255 bytes.
    public func setRoutingID(_ id: [UInt8]) throws(ZMQError) { try setOption(ZMQ_ROUTING_ID, bytes: id, name: "routing id") }
    /// Fail with `EHOSTUNREACH` instead of dropping a message to an unknown peer; block or `EAGAIN` when its queue is full.
    public func setRouterMandatory(_ on: Bool) throws(ZMQError) { try setOption(ZMQ_ROUTER_MANDATORY, Int32(on ? 1 : 0), name: "router mandatory") }

    // MARK: Publish/subscribe

    public func subscribe(_ prefix: [UInt8]) throws(ZMQError) { try setOption(ZMQ_SUBSCRIBE, bytes: prefix, name: "subscribe") }
    public func subscribe(_ prefix: String) throws(ZMQError) { try subscribe(Array(prefix.utf8)) }
    public func unsubscribe(_ prefix: [UInt8]) throws(ZMQError) { try setOption(ZMQ_UNSUBSCRIBE, bytes: prefix, name: "unsubscribe") }
    /// Pass every (un)subscription up to the application, not only the first and last (`ZMQ_XPUB_VERBOSE`).
    public func setXPubVerbose(_ on: Bool) throws(ZMQError) { try setOption(ZMQ_XPUB_VERBOSE, Int32(on ? 1 : 0), name: "xpub verbose") }
    /// The application decides which subscriptions take effect (`ZMQ_XPUB_MANUAL`).
    public func setXPubManual(_ on: Bool) throws(ZMQError) { try setOption(ZMQ_XPUB_MANUAL, Int32(on ? 1 : 0), name: "xpub manual") }
    /// Return `EAGAIN` rather than drop when a subscriber's queue is full (`ZMQ_XPUB_NODROP`).
    public func setXPubNoDrop(_ on: Bool) throws(ZMQError) { try setOption(ZMQ_XPUB_NODROP, Int32(on ? 1 : 0), name: "xpub nodrop") }

    // MARK: CURVE security

    public func setCurveServer(_ on: Bool) throws(ZMQError) { try setOption(ZMQ_CURVE_SERVER, Int32(on ? 1 : 0), name: "curve server") }
    public func setCurvePublicKey(_ key: ZMQCurveKey) throws(ZMQError) {
        try setOption(ZMQ_CURVE_PUBLICKEY, bytes: key.bytes, name: "curve public key")
    }
    public func setCurveSecretKey(_ key: ZMQCurveKey) throws(ZMQError) {
        try setOption(ZMQ_CURVE_SECRETKEY, bytes: key.bytes, name: "curve secret key")
    }
    public func setCurveServerKey(_ key: ZMQCurveKey) throws(ZMQError) {
        try setOption(ZMQ_CURVE_SERVERKEY, bytes: key.bytes, name: "curve server key")
    }
    /// The ZAP domain (`ZMQ_ZAP_DOMAIN`); setting one makes libzmq consult the ZAP handler.
    public func setZAPDomain(_ domain: String) throws(ZMQError) { try setOption(ZMQ_ZAP_DOMAIN, bytes: Array(domain.utf8), name: "zap domain") }

    /// `ZMQ_ZAP_ENFORCE_DOMAIN`: without a reachable ZAP handler, refuse every handshake instead of
    /// admitting it (libzmq 4.3's default admits). Declared only in zmq.h's draft section, so set by
    /// its number; `zapEnforceDomain` reads it back to prove the library took it.
    public func setZAPEnforceDomain(_ on: Bool) throws(ZMQError) {
        try setOption(Self.zapEnforceDomain, Int32(on ? 1 : 0), name: "zap enforce domain")
    }
    public var zapEnforceDomain: Bool {
        get throws(ZMQError) { try intOption(Self.zapEnforceDomain, name: "zap enforce domain") == 1 }
    }
    static let zapEnforceDomain: Int32 = 93

    // MARK: Polling support

    /// The file descriptor that becomes readable when the socket's events may have changed (`ZMQ_FD`).
    public var fileDescriptor: Int32 {
        get throws(ZMQError) {
            var fd: Int32 = -1
            var size = MemoryLayout<Int32>.size
            try zmqCall("getsockopt fd") { zmq_getsockopt(handle, ZMQ_FD, &fd, &size) }
            return fd
        }
    }

    // MARK: Raw access

    func setOption<Value: FixedWidthInteger>(_ option: Int32, _ value: Value, name: String) throws(ZMQError) {
        var value = value
        try zmqCall("setsockopt \(name)") { zmq_setsockopt(handle, option, &value, MemoryLayout<Value>.size) }
    }

    func setOption(_ option: Int32, bytes: [UInt8], name: String) throws(ZMQError) {
        try withUnsafeBytesTyped(bytes) { (buffer) throws(ZMQError) in
            try zmqCall("setsockopt \(name)") { zmq_setsockopt(handle, option, buffer.baseAddress, buffer.count) }
        }
    }

    func intOption(_ option: Int32, name: String) throws(ZMQError) -> Int32 {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        try zmqCall("getsockopt \(name)") { zmq_getsockopt(handle, option, &value, &size) }
        return value
    }

    func stringOption(_ option: Int32, name: String) throws(ZMQError) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        try zmqCall("getsockopt \(name)") { zmq_getsockopt(handle, option, &buffer, &size) }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
