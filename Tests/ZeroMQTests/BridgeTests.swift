import Foundation
import Synchronization
import Testing
import ZeroMQ

@Suite(.timeLimit(.minutes(1)))
struct BoundedBufferTests {
    /// A thread produces far more than the capacity while a task consumes slowly: nothing is lost,
    /// order is kept, and the buffer never holds more than its capacity.
    @Test func blockingProducerAndAsyncConsumerLoseNothing() async throws {
        let buffer = BoundedBuffer<Int>(capacity: 64)
        let count = 50_000
        let highWater = Mutex(0)
        let producer = ZMQThread(name: "producer") {
            for value in 0..<count {
                #expect(buffer.pushBlocking(value))
                let held = buffer.availableCount
                highWater.withLock { $0 = max($0, held) }
            }
            buffer.close()
        }
        var received: [Int] = []
        received.reserveCapacity(count)
        while let value = await buffer.pop() {
            received.append(value)
            if value % 5000 == 0 { try await Task.sleep(for: .milliseconds(5)) }  // a slow consumer
        }
        await producer.join()
        #expect(received == Array(0..<count))
        #expect(highWater.withLock { $0 } <= 64)
    }

    @Test func asyncProducerWaitsForSpace() async throws {
        let buffer = BoundedBuffer<Int>(capacity: 2)
        #expect(await buffer.push(1))
        #expect(await buffer.push(2))
        let third = Task { await buffer.push(3) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(buffer.availableCount == 2)  // the third push is still waiting
        #expect(await buffer.pop() == 1)
        #expect(await third.value)
        #expect(buffer.popAvailable() == [2, 3])
    }

    @Test func tryPushRefusesWhenFullAndCallbacksFire() {
        let items = Mutex(0)
        let space = Mutex(0)
        let buffer = BoundedBuffer<Int>(capacity: 1, onItems: { items.withLock { $0 += 1 } }, onSpace: { space.withLock { $0 += 1 } })
        #expect(buffer.tryPush(1))
        #expect(!buffer.tryPush(2))
        #expect(buffer.popAvailable() == [1])
        #expect(items.withLock { $0 } == 1)
        #expect(space.withLock { $0 } == 1)
    }

    @Test func popTimesOutAndCancellationEndsAWait() async {
        let buffer = BoundedBuffer<Int>(capacity: 4)
        guard case .timedOut = await buffer.pop(timeout: .milliseconds(20)) else {
            Issue.record("expected a timeout")
            return
        }
        let waiting = Task { await buffer.pop() }
        try? await Task.sleep(for: .milliseconds(20))
        waiting.cancel()
        #expect(await waiting.value == nil)
        // The element pushed after the cancelled wait is still there for the next consumer.
        #expect(buffer.tryPush(9))
        guard case .element(9) = await buffer.pop(timeout: .seconds(1)) else {
            Issue.record("expected 9")
            return
        }
    }

    @Test func closeDrainsThenEnds() async {
        let buffer = BoundedBuffer<Int>(capacity: 4)
        #expect(buffer.tryPush(1))
        buffer.close()
        #expect(!buffer.tryPush(2))
        #expect(await buffer.pop() == 1)
        #expect(await buffer.pop() == nil)
        guard case .closed = await buffer.pop(timeout: .seconds(1)) else {
            Issue.record("expected closed")
            return
        }
    }

    @Test func anInterruptEndsABlockingWaitOnceAndLosesNothing() {
        let buffer = BoundedBuffer<Int>(capacity: 4)
        // Interrupted before anyone waits: the next wait ends at once, the one after waits again.
        buffer.interruptWait()
        let started = ContinuousClock.now
        #expect(buffer.popBlocking(timeout: 30) == nil)
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(buffer.popBlocking(timeout: 0.05) == nil)
        // A thread already waiting is woken.
        let woken = Mutex<Bool?>(nil)
        let waiter = Thread {
            let popped = buffer.popBlocking(timeout: 30)
            woken.withLock { $0 = popped == nil }
        }
        waiter.start()
        while !waiter.isExecuting { usleep(1000) }
        usleep(50_000)
        buffer.interruptWait()
        let deadline = Date().addingTimeInterval(10)
        while woken.withLock({ $0 }) == nil, Date() < deadline { usleep(1000) }
        #expect(woken.withLock { $0 } == true)
        // An element pushed with an interrupt pending is still popped, never dropped.
        buffer.interruptWait()
        #expect(buffer.tryPush(5))
        #expect(buffer.popBlocking(timeout: 1) == 5)
    }
}

@Suite(.timeLimit(.minutes(1)))
struct ZMQAsyncSocketTests {
    /// 100,000 messages from a PUSH socket to an async PULL consumer that is slower than the producer:
    /// the bridge pushes back instead of dropping (docs/architecture.md, "Swift and libzmq": AsyncStream's buffers drop).
    @Test func asyncReceiveLosesNothingUnderBackPressure() async throws {
        let context = ZMQContext()
        let pull = try await ZMQAsyncSocket(context: context, type: .pull, name: "pull", capacity: 128) { socket in
            try socket.setReceiveHighWaterMark(100)
            try socket.bind("tcp://127.0.0.1:*")
            return try socket.lastEndpoint
        }
        let endpoint = pull.endpointDescription
        let push = try await ZMQAsyncSocket(context: context, type: .push, name: "push", capacity: 128) { socket in
            try socket.setSendHighWaterMark(100)
            try socket.connect(endpoint)
            return endpoint
        }
        let count = 100_000
        let sender = Task {
            for value in 0..<count { try await push.send([withUnsafeBytes(of: UInt32(value).bigEndian) { Array($0) }]) }
        }
        var expected: UInt32 = 0
        while expected < UInt32(count), let message = await pull.receive() {
            let value = message.frames[0].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(value == expected)
            expected += 1
            if expected % 20_000 == 0 { try await Task.sleep(for: .milliseconds(20)) }
        }
        try await sender.value
        #expect(expected == UInt32(count))
        await push.close()
        await pull.close()
    }

    /// A task cancelled while its socket is being opened (a service group stopping because another
    /// service failed) gets a `CancellationError`; it used to trap, which crashed the worker. The
    /// socket's thread still ends.
    @Test func cancellingTheOpeningThrowsAndTheThreadEnds() async throws {
        let context = ZMQContext()
        let opening = Task {
            try await ZMQAsyncSocket(context: context, type: .dealer, name: "opening-cancel") { socket in
                usleep(200_000)  // still configuring when the caller is cancelled
                try socket.connect("tcp://127.0.0.1:1")
                return "tcp://127.0.0.1:1"
            }
        }
        opening.cancel()
        await #expect(throws: CancellationError.self) { _ = try await opening.value }
        func threadRuns() -> Bool {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            return tasks.contains {
                (try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8))?.hasPrefix("opening-cancel") == true
            }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while threadRuns(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!threadRuns())
    }

    @Test func configurationErrorsAreRethrownToTheCaller() async {
        await #expect(throws: ZMQError.self) {
            _ = try await ZMQAsyncSocket(context: ZMQContext(), type: .dealer, name: "bad") { socket in
                try socket.connect("nonsense://")
                return ""
            }
        }
    }
}
