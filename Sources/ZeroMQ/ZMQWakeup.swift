import CZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// An eventfd that another thread (or a task) signals to wake a thread waiting in ``ZMQPoller``.
/// Signals coalesce: many `signal()` calls before a `drain()` wake the poller once.
public final class ZMQWakeup: Sendable {
    public let fileDescriptor: Int32

    public init() {
        fileDescriptor = gridbus_eventfd_create()
        precondition(fileDescriptor >= 0, "eventfd failed: errno \(errno)")
    }

    public func signal() { gridbus_eventfd_signal(fileDescriptor) }

    /// Resets the counter; call after the poller reported the descriptor readable.
    public func drain() { gridbus_eventfd_drain(fileDescriptor) }

    deinit { close(fileDescriptor) }
}
