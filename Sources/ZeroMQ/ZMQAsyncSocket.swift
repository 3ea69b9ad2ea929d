import CZeroMQ
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A socket owned by its own thread, with an async face: ``send(_:)`` suspends while the
/// outgoing buffer is full, ``receive()`` suspends while nothing has arrived, and when the
/// caller stops receiving the thread stops reading, so libzmq's queue and then TCP push back
/// on the peer. Nothing is dropped on the way.
public final class ZMQAsyncSocket: Sendable {
    private let inbound: BoundedBuffer<ZMQMessage>
    private let outbound: BoundedBuffer<[[UInt8]]>
    private let wakeup: ZMQWakeup
    private let thread: ZMQThread
    public let endpointDescription: String

    /// Creates the socket on a new thread, runs `configure` there (options, bind, connect) and
    /// returns once it has succeeded; its error is rethrown here.
    ///
    /// - Parameters:
    ///   - capacity: messages buffered in each direction between the thread and async code.
    ///   - readUserID: attach the ZAP `User-Id` to every received message.
    ///   - configure: runs on the owning thread; returns a description for logs (e.g. the endpoint).
    public init(
        context: ZMQContext,
        type: ZMQSocketType,
        name: String,
        capacity: Int = 1024,
        readUserID: Bool = false,
        configure: @escaping @Sendable (ZMQSocket) throws -> String
    ) async throws {
        let wakeup = ZMQWakeup()
        let inbound = BoundedBuffer<ZMQMessage>(capacity: capacity, onSpace: { wakeup.signal() })
        let outbound = BoundedBuffer<[[UInt8]]>(capacity: capacity, onItems: { wakeup.signal() })
        let started = BoundedBuffer<Result<String, any Error>>(capacity: 1)
        self.wakeup = wakeup
        self.inbound = inbound
        self.outbound = outbound
        // The thread reads `stopping` through this box so that it does not capture `self`.
        let box = StopFlag()
        let failure = SocketFailure()
        self.failure = failure
        self.thread = ZMQThread(name: name) {
            let socket: ZMQSocket
            do {
                socket = try ZMQSocket(context: context, type: type)
                _ = started.tryPush(.success(try configure(socket)))
            } catch {
                _ = started.tryPush(.failure(error))
                inbound.close()
                return
            }
            Self.run(socket: socket, inbound: inbound, outbound: outbound, wakeup: wakeup, readUserID: readUserID, stop: box, failure: failure)
            socket.close()
            inbound.close()
            outbound.close()
        }
        self.stopFlag = box
        switch await started.pop() {
        case .success(let description): self.endpointDescription = description
        case .failure(let error):
            await thread.join()
            throw error
        case nil:
            // The caller's task was cancelled before the thread reported (a service group that is
            // stopping because another service failed): ask the thread to stop, which closes the
            // socket whether or not it got as far as opening one, and report the cancellation.
            box.set()
            wakeup.signal()
            throw CancellationError()
        }
    }

    private let stopFlag: StopFlag
    /// Why the socket thread stopped on its own, if it did (reported by ``send(_:)``).
    private let failure: SocketFailure

    /// Queues a message, suspending while the outgoing buffer is full.
    public func send(_ frames: [[UInt8]]) async throws(ZMQError) {
        guard await outbound.push(frames) else {
            throw failure.error ?? ZMQError(code: ETERM, operation: "send on closed \(endpointDescription)")
        }
    }

    /// The next message, or `nil` once the socket is closed.
    public func receive() async -> ZMQMessage? { await inbound.pop() }

    /// The next message if one has already arrived.
    public func receiveIfAvailable() -> ZMQMessage? { inbound.popAvailable(maximum: 1).first }

    /// The next message, waiting at most `timeout`.
    public func receive(timeout: Duration) async -> BoundedBuffer<ZMQMessage>.TimedPop { await inbound.pop(timeout: timeout) }

    /// Ends receiving: pending and later ``receive()`` calls return `nil` while sending still works
    /// (for a last message before ``close()``). Safe to call from any context.
    public func finishReceiving() { inbound.close() }

    /// Asks the thread to stop without waiting: pending ``receive()`` calls then return `nil`.
    /// Safe to call from any context, including cancellation and shutdown handlers.
    public func requestClose() {
        stopFlag.set()
        wakeup.signal()
    }

    /// Stops the thread and closes the socket; unsent messages are discarded (linger 0).
    public func close() async {
        requestClose()
        await thread.join()
    }

    private static func run(
        socket: ZMQSocket,
        inbound: BoundedBuffer<ZMQMessage>,
        outbound: BoundedBuffer<[[UInt8]]>,
        wakeup: ZMQWakeup,
        readUserID: Bool,
        stop: StopFlag,
        failure: SocketFailure
    ) {
        var poller = ZMQPoller()
        let socketIndex = poller.add(socket)
        let wakeIndex = poller.add(fileDescriptor: wakeup.fileDescriptor)
        var pending: [[[UInt8]]] = []
        var moreQueued = false
        do {
            while !stop.isSet {
                var events: ZMQPollEvents = []
                if socket.type.canReceive && !inbound.isFull { events.insert(.readable) }
                if !pending.isEmpty { events.insert(.writable) }
                poller.setEvents(events, at: socketIndex)
                // Waiting is safe only with nothing left to do: every later change to the buffers
                // (items queued, space freed) signals the wakeup.
                try poller.poll(timeoutMilliseconds: moreQueued ? 0 : 1000)
                if poller.events(at: wakeIndex).contains(.readable) { wakeup.drain() }
                // Receive what is queued, as long as async code keeps up.
                var received = 0
                while socket.type.canReceive, received < 1024, !inbound.isFull,
                    let message = try socket.receiveMessage(dontWait: true, readUserID: readUserID)
                {
                    _ = inbound.tryPush(message)
                    received += 1
                }
                // Send what async code queued, until the buffer is empty or libzmq pushes back.
                moreQueued = false
                for round in 0..<8 {
                    if pending.isEmpty { pending = outbound.popAvailable(maximum: 1024) }
                    if pending.isEmpty { break }
                    var sent = 0
                    while sent < pending.count, try socket.send(frames: pending[sent], dontWait: true) { sent += 1 }
                    pending.removeFirst(sent)
                    if !pending.isEmpty { break }  // pushed back: wait for POLLOUT
                    if round == 7 { moreQueued = true }  // yield to receiving, then come straight back
                }
            }
        } catch {
            // ETERM (context shut down) or a broken socket: either way this thread is done.
            if !error.isContextTerminated { failure.error = error }
        }
    }
}

/// The error that stopped a socket thread, kept for the next caller.
final class SocketFailure: Sendable {
    private let value = Mutex<ZMQError?>(nil)
    var error: ZMQError? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
