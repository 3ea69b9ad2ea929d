import Synchronization

/// The access policy in force, shared by the ZAP handler and the bus loops, replaced whole on reload.
/// Loops read it once per batch of messages, so a reload applies from their next batch on.
public final class AccessControl: Sendable {
    public let mode: SecurityMode
    private let state: Mutex<(policy: AccessPolicy, revocations: Int)>

    public init(mode: SecurityMode, policy: AccessPolicy) {
        self.mode = mode
        self.state = Mutex((policy, 0))
    }

    public var policy: AccessPolicy { state.withLock { $0.policy } }

    /// How many replacements took something away from a reader (a key, a subscribe pattern): the
    /// egress compares it to reopen its socket, since open subscriptions cannot be withdrawn one by one.
    public var revocations: Int { state.withLock { $0.revocations } }

    /// Installs a new policy; returns whether it took read access away from anyone.
    @discardableResult
    public func replace(_ policy: AccessPolicy) -> Bool {
        state.withLock { current in
            let narrowed = current.policy.identities.values.contains { old in
                guard let new = policy.identities[old.name] else { return true }
                return new.publicKey != old.publicKey || !Set(old.subscribe).isSubset(of: Set(new.subscribe))
            }
            current.policy = policy
            if narrowed { current.revocations += 1 }
            return narrowed
        }
    }

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
