import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed libzmq call: the operation that failed and the `errno` libzmq reported.
public struct ZMQError: Error, Hashable, Sendable, CustomStringConvertible {
    public let code: Int32
    public let operation: String

    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// The socket would block (`EAGAIN`): a non-blocking call found nothing to do, or a timeout ran out.
    public var isWouldBlock: Bool { code == EAGAIN }
    /// The context was shut down (`ETERM`): the owner should close its socket and stop.
    public var isContextTerminated: Bool { code == ETERM }
    /// A ROUTER with `routerMandatory` could not route to the peer (`EHOSTUNREACH`).
    public var isHostUnreachable: Bool { code == EHOSTUNREACH }

    public var description: String { "\(operation): \(String(cString: zmq_strerror(code)))" }
}

/// Runs one libzmq call, retrying on `EINTR` and turning `-1` into a thrown ``ZMQError``
/// (modelled on NIO's `syscall`).
@discardableResult
@inline(__always)
func zmqCall(_ operation: @autoclosure () -> String, _ body: () -> Int32) throws(ZMQError) -> Int32 {
    while true {
        let result = body()
        guard result == -1 else { return result }
        let code = zmq_errno()
        if code != EINTR { throw ZMQError(code: code, operation: operation()) }
    }
}
