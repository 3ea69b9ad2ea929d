import Synchronization

/// A one-way flag that a thread owning a socket polls to know when to stop.
public final class StopFlag: Sendable {
    public init() {}
    private let flag = Atomic<Bool>(false)
    public func set() { flag.store(true, ordering: .releasing) }
    public var isSet: Bool { flag.load(ordering: .acquiring) }
}
