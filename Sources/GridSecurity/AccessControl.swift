import Synchronization

/// The access policy in force, shared by the ZAP handler and the bus loops, replaced whole on reload.
/// Loops read it once per batch of messages, so a reload applies from their next batch on.
public final class AccessControl: Sendable {
    public let mode: SecurityMode
    private let state: Mutex<AccessPolicy>

    public init(mode: SecurityMode, policy: AccessPolicy) {
        self.mode = mode
        self.state = Mutex(policy)
    }

    public var policy: AccessPolicy { state.withLock { $0 } }
    public func replace(_ policy: AccessPolicy) { state.withLock { $0 = policy } }

    /// Whether messages must carry an identity (false in development mode).
    public var enforces: Bool { mode == .curve }
}

/// How gridbusd secures its sockets.
public enum SecurityMode: String, Sendable, CaseIterable {
    /// CURVE on every bus socket; only listed keys get in; ACLs per identity.
    case curve
    /// No encryption, no authentication, no ACLs: development only, warned about at start-up.
    case none
}
