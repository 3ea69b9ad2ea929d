import Foundation
import Logging

/// Counts and logs refusals (ZAP failures, ACL denials) with a rate limit per identity or peer.
/// Each thread that refuses owns one: no locking on the refusal path.
public struct DenialReporter {
    private let metrics: SecurityMetrics
    private let logger: Logger
    private var limiter: LogRateLimiter
    private let clock: @Sendable () -> Double

    public init(
        metrics: SecurityMetrics,
        logger: Logger,
        limiter: LogRateLimiter = LogRateLimiter(),
        clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }
    ) {
        self.metrics = metrics
        self.logger = logger
        self.limiter = limiter
        self.clock = clock
    }

    /// An identity asked for something its access list does not allow.
    public mutating func denied(identity: String, action: SecurityMetrics.Action, _ what: String) {
        metrics.denied(identity: identity, action: action)
        log(key: "acl:\(identity)", "access denied", ["identity": "\(identity)", "action": "\(action.rawValue)", "denied": "\(what)"])
    }

    /// A peer failed authentication.
    public mutating func authenticationFailed(peer: String, reason: String) {
        metrics.authenticationFailed(peer: peer, reason: reason)
        log(key: "auth:\(peer)", "authentication refused", ["peer": "\(peer)", "reason": "\(reason)"])
    }

    private mutating func log(key: String, _ message: Logger.Message, _ metadata: Logger.Metadata) {
        guard case .log(let suppressed) = limiter.decide(key: key, now: clock()) else { return }
        var metadata = metadata
        if suppressed > 0 { metadata["suppressed.since.last"] = "\(suppressed)" }
        logger.warning(message, metadata: metadata)
    }
}
