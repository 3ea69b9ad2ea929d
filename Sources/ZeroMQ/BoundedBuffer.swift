import Foundation

/// A bounded FIFO between threads and tasks that never drops: a full buffer makes the producer
/// wait (a thread blocks, a task suspends) and an empty one makes the consumer wait.
///
/// This is the bridge between socket-owning threads and async code. `AsyncStream` cannot be
/// used for it: its bounded policies drop elements, its unbounded one grows without limit.
///
/// `onItems` and `onSpace` are called (outside the lock) when the buffer goes from empty to
/// non-empty and from full to not full, so that a thread waiting in `zmq_poll` can be woken
/// through a ``ZMQWakeup``.
public final class BoundedBuffer<Element: Sendable>: @unchecked Sendable {
    // @unchecked: every stored var below is read and written only while `condition` is locked.
    private let condition = NSCondition()
    private var storage: [Element?]
    private var head = 0
    private var count = 0
    private var closed = false
    private var interrupted = false
    private var waitingConsumers: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    private var cancelledConsumers = Set<UInt64>()
    private var nextWaiterID: UInt64 = 0
    private var waitingProducers: [CheckedContinuation<Void, Never>] = []
    public let capacity: Int
    private let onItems: (@Sendable () -> Void)?
    private let onSpace: (@Sendable () -> Void)?

    public init(capacity: Int, onItems: (@Sendable () -> Void)? = nil, onSpace: (@Sendable () -> Void)? = nil) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.storage = Array(repeating: nil, count: capacity)
        self.onItems = onItems
        self.onSpace = onSpace
    }

    // MARK: Producers

    /// Appends without waiting. Returns `false` when the buffer is full or closed.
    public func tryPush(_ element: Element) -> Bool {
        condition.lock()
        guard !closed, count < capacity else {
            condition.unlock()
            return false
        }
        let wake = appendLocked(element)
        condition.unlock()
        wake()
        return true
    }

    /// Appends, blocking the calling thread while the buffer is full. Returns `false` once closed.
    /// Never call this from a task: use ``push(_:)``.
    public func pushBlocking(_ element: Element) -> Bool {
        condition.lock()
        while !closed && count >= capacity { condition.wait() }
        guard !closed else {
            condition.unlock()
            return false
        }
        let wake = appendLocked(element)
        condition.unlock()
        wake()
        return true
    }

    /// Appends, suspending the task while the buffer is full. Returns `false` once closed.
    public func push(_ element: Element) async -> Bool {
        while true {
            if let done = attemptPush(element) { return done }
            await withCheckedContinuation { parkProducer($0) }
        }
    }

    private func attemptPush(_ element: Element) -> Bool? {
        condition.lock()
        if closed {
            condition.unlock()
            return false
        }
        guard count < capacity else {
            condition.unlock()
            return nil
        }
        let wake = appendLocked(element)
        condition.unlock()
        wake()
        return true
    }

    private func parkProducer(_ continuation: CheckedContinuation<Void, Never>) {
        condition.lock()
        if closed || count < capacity {
            condition.unlock()
            continuation.resume()
        } else {
            waitingProducers.append(continuation)
            condition.unlock()
        }
    }

    // MARK: Consumers

    /// Removes up to `maximum` elements without waiting.
    public func popAvailable(maximum: Int = .max) -> [Element] {
        condition.lock()
        var result: [Element] = []
        result.reserveCapacity(min(maximum, count))
        while count > 0 && result.count < maximum { result.append(removeFirstLocked()) }
        let wake = spaceFreedLocked(wasFull: !result.isEmpty && count + result.count >= capacity)
        condition.unlock()
        wake()
        return result
    }

    /// Removes the first element, blocking the thread up to `timeout` seconds. `nil` on timeout,
    /// when closed and empty, or when ``interruptWait()`` ended the wait.
    public func popBlocking(timeout: Double) -> Element? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        while count == 0 && !closed && !interrupted {
            if !condition.wait(until: deadline) { break }
        }
        interrupted = false
        guard count > 0 else {
            condition.unlock()
            return nil
        }
        let wasFull = count >= capacity
        let element = removeFirstLocked()
        let wake = spaceFreedLocked(wasFull: wasFull)
        condition.unlock()
        wake()
        return element
    }

    /// Removes the first element, suspending the task while the buffer is empty.
    /// `nil` when closed and drained, or when the task is cancelled.
    public func pop() async -> Element? {
        while true {
            if let result = attemptPop() { return result }
            if Task.isCancelled { return nil }
            let id = makeWaiterID()
            await withTaskCancellationHandler {
                await withCheckedContinuation { parkConsumer($0, id: id) }
            } onCancel: {
                cancelConsumer(id)
            }
        }
    }

    /// The outcome of ``pop(timeout:)``.
    public enum TimedPop: Sendable {
        case element(Element)
        case closed
        case timedOut
    }

    /// Removes the first element, waiting at most `timeout`. Never loses an element to the timeout.
    public func pop(timeout: Duration) async -> TimedPop {
        if let result = attemptPop() { return result.map { .element($0) } ?? .closed }
        return await withTaskGroup(of: TimedPop?.self) { group in
            group.addTask {
                if let element = await self.pop() { return .element(element) }
                return Task.isCancelled ? nil : .closed
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return .timedOut
            }
            var outcome = TimedPop.timedOut
            var settled = false
            for await result in group {
                guard let result else { continue }
                switch result {
                case .element:
                    outcome = result  // an element always wins, even one popped while cancelling
                case .closed, .timedOut:
                    if !settled { outcome = result }
                }
                if !settled {
                    settled = true
                    group.cancelAll()
                }
            }
            return outcome
        }
    }

    private func makeWaiterID() -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        nextWaiterID += 1
        return nextWaiterID
    }

    private func cancelConsumer(_ id: UInt64) {
        condition.lock()
        if let index = waitingConsumers.firstIndex(where: { $0.id == id }) {
            let waiter = waitingConsumers.remove(at: index)
            condition.unlock()
            waiter.continuation.resume()
        } else {
            cancelledConsumers.insert(id)
            condition.unlock()
        }
    }

    /// `.some(element)`, `.some(nil)` when closed and drained, `nil` when the caller must wait.
    private func attemptPop() -> Element?? {
        condition.lock()
        if count > 0 {
            let wasFull = count >= capacity
            let element = removeFirstLocked()
            let wake = spaceFreedLocked(wasFull: wasFull)
            condition.unlock()
            wake()
            return .some(element)
        }
        let isClosed = closed
        condition.unlock()
        return isClosed ? .some(nil) : nil
    }

    private func parkConsumer(_ continuation: CheckedContinuation<Void, Never>, id: UInt64) {
        condition.lock()
        if closed || count > 0 || cancelledConsumers.remove(id) != nil {
            condition.unlock()
            continuation.resume()
        } else {
            waitingConsumers.append((id, continuation))
            condition.unlock()
        }
    }

    /// Ends the wait of a thread in ``popBlocking(timeout:)`` early, as if its timeout had passed
    /// (or the next such wait, if none is waiting): the consumer has something else to look at.
    public func interruptWait() {
        condition.lock()
        interrupted = true
        condition.broadcast()
        condition.unlock()
    }

    // MARK: State

    public var isEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return count == 0
    }
    public var isFull: Bool {
        condition.lock()
        defer { condition.unlock() }
        return count >= capacity
    }
    public var availableCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }

    /// Wakes every waiter; pushes fail from now on, pops drain what is left and then return `nil`.
    public func close() {
        condition.lock()
        closed = true
        let waiters = waitingConsumers.map(\.continuation) + waitingProducers
        waitingConsumers.removeAll()
        waitingProducers.removeAll()
        condition.broadcast()
        condition.unlock()
        for waiter in waiters { waiter.resume() }
        onItems?()
        onSpace?()
    }

    // MARK: Private (called with the lock held; the returned closure runs after unlocking)

    private func appendLocked(_ element: Element) -> () -> Void {
        storage[(head + count) % capacity] = element
        count += 1
        condition.broadcast()
        guard count == 1 else { return {} }
        let consumers = waitingConsumers
        waitingConsumers.removeAll()
        let onItems = self.onItems
        return {
            for consumer in consumers { consumer.continuation.resume() }
            onItems?()
        }
    }

    private func removeFirstLocked() -> Element {
        let element = storage[head]!
        storage[head] = nil
        head = (head + 1) % capacity
        count -= 1
        return element
    }

    private func spaceFreedLocked(wasFull: Bool) -> () -> Void {
        condition.broadcast()
        guard wasFull else { return {} }
        let producers = waitingProducers
        waitingProducers.removeAll()
        let onSpace = self.onSpace
        return {
            for producer in producers { producer.resume() }
            onSpace?()
        }
    }
}
