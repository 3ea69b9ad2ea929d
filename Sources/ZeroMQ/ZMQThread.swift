import CZeroMQ
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A dedicated OS thread for blocking libzmq work, so that the two threads of the Swift
/// concurrency pool are never blocked in `zmq_poll` or a receive.
public final class ZMQThread: Sendable {
    private let finished = BoundedBuffer<Bool>(capacity: 1)

    /// Starts `body` on a new thread named `name`.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let finished = self.finished
        let threadName = String(name.utf8.prefix(15))!  // Linux thread names hold 15 bytes
        let thread = Thread {
            gridbus_set_thread_name(threadName)
            body()
            _ = finished.tryPush(true)
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits, without blocking a pool thread, until the body has returned.
    public func join() async {
        if let value = await finished.pop() { _ = finished.tryPush(value) }
    }

    /// Blocks the calling thread until the body has returned or `timeout` seconds have passed.
    @discardableResult
    public func joinBlocking(timeout: Double) -> Bool {
        guard let value = finished.popBlocking(timeout: timeout) else { return false }
        _ = finished.tryPush(value)
        return true
    }
}
