import CZeroMQ

/// What to wait for, or what happened, on a poll item.
public struct ZMQPollEvents: OptionSet, Sendable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }
    public static let readable = ZMQPollEvents(rawValue: Int16(ZMQ_POLLIN))
    public static let writable = ZMQPollEvents(rawValue: Int16(ZMQ_POLLOUT))
    public static let error = ZMQPollEvents(rawValue: Int16(ZMQ_POLLERR))
}

/// `zmq_poll` over sockets and plain file descriptors (such as a ``ZMQWakeup``).
/// Owned by one thread, like the sockets it polls.
public struct ZMQPoller {
    private var items: [zmq_pollitem_t] = []
    private var sockets: [ZMQSocket?] = []  // keeps polled sockets alive

    public init() {}

    /// Adds a socket; returns its index for ``setEvents(_:at:)`` and ``events(at:)``.
    @discardableResult
    public mutating func add(_ socket: ZMQSocket, events: ZMQPollEvents = .readable) -> Int {
        items.append(zmq_pollitem_t(socket: socket.handle, fd: 0, events: events.rawValue, revents: 0))
        sockets.append(socket)
        return items.count - 1
    }

    /// Adds a file descriptor; returns its index.
    @discardableResult
    public mutating func add(fileDescriptor: Int32, events: ZMQPollEvents = .readable) -> Int {
        items.append(zmq_pollitem_t(socket: nil, fd: fileDescriptor, events: events.rawValue, revents: 0))
        sockets.append(nil)
        return items.count - 1
    }

    public mutating func setEvents(_ events: ZMQPollEvents, at index: Int) { items[index].events = events.rawValue }

    /// Waits until an item is ready or the timeout (ms; -1 forever) runs out. Returns the number of ready items.
    @discardableResult
    public mutating func poll(timeoutMilliseconds: Int) throws(ZMQError) -> Int {
        let count = items.count
        return Int(
            try items.withUnsafeMutableBufferPointer { (buffer) throws(ZMQError) -> Int32 in
                try zmqCall("zmq_poll") { zmq_poll(buffer.baseAddress, Int32(count), timeoutMilliseconds) }
            }
        )
    }

    /// What happened on item `index` during the last ``poll(timeoutMilliseconds:)``.
    public func events(at index: Int) -> ZMQPollEvents { ZMQPollEvents(rawValue: items[index].revents) }
}
