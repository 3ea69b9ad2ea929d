import CZeroMQ

/// A libzmq context. Contexts are thread-safe, so this class is `Sendable`; sockets are not.
///
/// Call ``shutdown()`` to make every blocking call on every socket return with
/// ``ZMQError/isContextTerminated``; the context is terminated when the last reference goes.
public final class ZMQContext: Sendable {
    // The handle is set once in init and only passed to thread-safe libzmq context calls.
    nonisolated(unsafe) let handle: UnsafeMutableRawPointer

    /// - Parameter ioThreads: libzmq I/O threads. One is plenty below a few hundred MB/s.
    public init(ioThreads: Int32 = 1) {
        guard let handle = zmq_ctx_new() else { fatalError("zmq_ctx_new failed: out of memory") }
        self.handle = handle
        zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads)
        // Never let a stuck peer hold the process at exit: sockets default to linger 0 via ZMQSocket.
        zmq_ctx_set(handle, ZMQ_BLOCKY, 0)
    }

    /// Interrupts every blocking call on this context's sockets (they fail with `ETERM`).
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    deinit {
        // Every socket holds a strong reference to its context, so all are closed by now.
        while zmq_ctx_term(handle) == -1 && zmq_errno() == EINTR {}
    }

    /// The libzmq version this process is linked against, e.g. `(4, 3, 4)`.
    public static var version: (major: Int32, minor: Int32, patch: Int32) {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (major, minor, patch)
    }

    /// Whether libzmq was built with a capability such as `"curve"` or `"ipc"`.
    public static func has(_ capability: String) -> Bool { zmq_has(capability) == 1 }
}
