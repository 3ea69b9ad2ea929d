import CoreMetrics
import Synchronization

/// Security counters for `/metrics`. Labels are identity names (bounded by configuration) or peer
/// addresses (bounded here: after `maxPeers` distinct addresses, further ones count as `other`),
/// never key material.
public final class SecurityMetrics: Sendable {
    public enum Action: String, Sendable, CaseIterable {
        case publish, subscribe, replay
    }

    /// Each metric's help text, by label, for `/metrics`.
    public static let help: [String: String] = [
        "gridbus_security_mode": "1 for the security mode in force (curve, or none: development mode).",
        "gridbus_security_identities": "Identities in the access policy in force.",
        "gridbus_auth_successes_total": "CURVE handshakes admitted, by identity.",
        "gridbus_auth_failures_total": "Handshakes refused, by peer address (other past 100 addresses) and reason.",
        "gridbus_acl_denials_total": "Publishes, subscriptions and replays the access lists refused, by identity and action.",
        "gridbus_security_reloads_total": "Reloads of the access policy (SIGHUP), by result.",
    ]

    private let factory: any MetricsFactory
    private let peers = Mutex(Set<String>())
    private let maxPeers: Int
    public let identities: Gauge

    public init(factory: any MetricsFactory, mode: SecurityMode, maxPeers: Int = 100) {
        self.factory = factory
        self.maxPeers = maxPeers
        for candidate in SecurityMode.allCases {
            Gauge(label: "gridbus_security_mode", dimensions: [("mode", candidate.rawValue)], factory: factory).record(candidate == mode ? 1 : 0)
        }
        identities = Gauge(label: "gridbus_security_identities", factory: factory)
    }

    /// A ZAP refusal: unlisted key, wrong domain or mechanism.
    public func authenticationFailed(peer: String, reason: String) {
        let label = peers.withLock { known -> String in
            if known.contains(peer) { return peer }
            guard known.count < maxPeers else { return "other" }
            known.insert(peer)
            return peer
        }
        Counter(label: "gridbus_auth_failures_total", dimensions: [("peer", label), ("reason", reason)], factory: factory).increment()
    }

    public func authenticated(identity: String) {
        Counter(label: "gridbus_auth_successes_total", dimensions: [("identity", identity)], factory: factory).increment()
    }

    public func denied(identity: String, action: Action) {
        Counter(label: "gridbus_acl_denials_total", dimensions: [("identity", identity), ("action", action.rawValue)], factory: factory).increment()
    }

    public func reloaded(success: Bool) {
        Counter(label: "gridbus_security_reloads_total", dimensions: [("result", success ? "success" : "failure")], factory: factory).increment()
    }
}
