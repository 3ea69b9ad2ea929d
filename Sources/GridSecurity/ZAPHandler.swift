import Logging
import ZeroMQ

/// The ZeroMQ Authentication Protocol handler (RFC 27): libzmq asks it about every CURVE handshake
/// on sockets with a ZAP domain, and with `ZAP_ENFORCE_DOMAIN` a missing handler refuses them all.
/// It admits listed public keys and names the identity, which libzmq then attaches to every
/// message from that peer as the `User-Id` property.
public struct ZAPHandler {
    public static let endpoint = "inproc://zeromq.zap.01"
    public static let domain = "gridbus"

    let access: AccessControl
    let metrics: SecurityMetrics
    var reporter: DenialReporter

    public init(access: AccessControl, metrics: SecurityMetrics, logger: Logger) {
        self.access = access
        self.metrics = metrics
        self.reporter = DenialReporter(metrics: metrics, logger: logger)
    }

    /// Answers one request: `version · request id · domain · address · routing id · mechanism · credentials…`.
    public mutating func answer(_ frames: [[UInt8]]) -> [[UInt8]] {
        guard frames.count >= 6, frames[0] == Array("1.0".utf8) else {
            return reply(frames.count > 1 ? frames[1] : [], "400", "malformed ZAP request")
        }
        let requestID = frames[1]
        let domain = String(decoding: frames[2], as: UTF8.self)
        let peer = String(decoding: frames[3], as: UTF8.self)
        let mechanism = String(decoding: frames[5], as: UTF8.self)
        guard domain == Self.domain else { return refuse(requestID, peer: peer, reason: "wrong-domain") }
        guard mechanism == "CURVE", frames.count == 7, let key = try? ZMQCurveKey(bytes: frames[6]) else {
            return refuse(requestID, peer: peer, reason: "not-curve")
        }
        guard let identity = access.policy.identity(forKey: key) else { return refuse(requestID, peer: peer, reason: "unlisted-key") }
        metrics.authenticated(identity: identity.name)
        return reply(requestID, "200", "OK", userID: identity.name)
    }

    private mutating func refuse(_ requestID: [UInt8], peer: String, reason: String) -> [[UInt8]] {
        reporter.authenticationFailed(peer: peer, reason: reason)
        return reply(requestID, "400", "not allowed")
    }

    private func reply(_ requestID: [UInt8], _ code: String, _ text: String, userID: String = "") -> [[UInt8]] {
        [Array("1.0".utf8), requestID, Array(code.utf8), Array(text.utf8), Array(userID.utf8), []]
    }

    /// Serves requests on a REP socket bound to ``endpoint`` until `stop` is set.
    public mutating func run(socket: ZMQSocket, stop: StopFlag, logger: Logger) {
        var poller = ZMQPoller()
        poller.add(socket)
        do {
            while !stop.isSet {
                try poller.poll(timeoutMilliseconds: 100)
                while let request = try socket.receiveMessage(dontWait: true) {
                    try socket.send(frames: answer(request.frames))
                }
            }
        } catch {
            if !error.isContextTerminated { logger.error("ZAP handler stopped; new connections will be refused", metadata: ["error": "\(error)"]) }
        }
    }
}
