import Synchronization

/// A one-way flag that a thread owning a socket polls to know when to stop.
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    private let wake: (@Sendable () -> Void)?

    /// - Parameter wake: wakes the thread's poll when the flag is set (a thread that polls until
    ///   its next timer, such as the egress until its next heartbeat, would otherwise notice late).
    public init(wake: (@Sendable () -> Void)? = nil) { self.wake = wake }

    public func set() {
        flag.store(true, ordering: .releasing)
        wake?()
    }

    public var isSet: Bool { flag.load(ordering: .acquiring) }
}
