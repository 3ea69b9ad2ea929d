import Foundation
import Testing
import ZeroMQ

@Suite(.timeLimit(.minutes(1)))
struct ZMQSocketTests {
    let context = ZMQContext()

    @Test func libraryHasWhatGridBusNeeds() {
        let version = ZMQContext.version
        #expect(version.major == 4 && version.minor >= 3)
        #expect(ZMQContext.has("curve"))
    }

    @Test func bindToAnyPortReportsTheChosenEndpoint() throws {
        let socket = try ZMQSocket(context: context, type: .router)
        try socket.bind("tcp://127.0.0.1:*")
        let endpoint = try socket.lastEndpoint
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:"))
        #expect(Int(endpoint.split(separator: ":").last!)! > 0)
    }

    @Test func errorsAreTypedAndNameTheOperation() throws {
        let socket = try ZMQSocket(context: context, type: .dealer)
        let error = #expect(throws: ZMQError.self) { try socket.connect("nonsense") }
        #expect(error?.code == EINVAL)
        #expect(error?.description.contains("connect nonsense") == true)
    }

    @Test func nonBlockingReceiveOnAnEmptySocketReturnsNil() throws {
        let socket = try ZMQSocket(context: context, type: .pull)
        try socket.bind("tcp://127.0.0.1:*")
        #expect(try socket.receiveMessage(dontWait: true) == nil)
        #expect(try socket.receiveFrame(dontWait: true) == nil)
    }

    @Test func dealerRouterMultipartRoundTripWithRoutingID() throws {
        let router = try ZMQSocket(context: context, type: .router)
        try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZMQSocket(context: context, type: .dealer)
        try dealer.setRoutingID(Array("worker-1".utf8))
        try dealer.connect(try router.lastEndpoint)
        try dealer.setReceiveTimeout(milliseconds: 5000)
        try router.setReceiveTimeout(milliseconds: 5000)

        let payload = [UInt8](repeating: 7, count: 100_000)
        try dealer.send(frames: [Array("PUB".utf8), [], payload])
        let request = try #require(try router.receiveMessage())
        #expect(request.frames.count == 4)
        #expect(request.frames[0] == Array("worker-1".utf8))
        #expect(request.frames[1] == Array("PUB".utf8))
        #expect(request.frames[2].isEmpty)
        #expect(request.frames[3] == payload)

        try router.send(frames: [request.frames[0], Array("ACK".utf8)])
        let answer = try #require(try dealer.receiveMessage())
        #expect(answer.frames == [Array("ACK".utf8)])
    }

    /// The slow joiner (docs/architecture.md, "Swift and libzmq"): wait until XPUB has seen the subscription, then publish.
    @Test func xpubSeesTheSubscriptionBeforeAnythingFlows() throws {
        let xpub = try ZMQSocket(context: context, type: .xpublish)
        try xpub.bind("tcp://127.0.0.1:*")
        try xpub.setReceiveTimeout(milliseconds: 5000)
        let sub = try ZMQSocket(context: context, type: .subscribe)
        try sub.subscribe("incident.")
        try sub.connect(try xpub.lastEndpoint)
        try sub.setReceiveTimeout(milliseconds: 5000)

        let subscription = try #require(try xpub.receiveFrame())
        #expect(subscription.bytes == [1] + Array("incident.".utf8))
        try xpub.send(frames: [Array("grid.mode.changed/G-1".utf8), [2]])  // filtered out
        try xpub.send(frames: [Array("incident.reported/G-1".utf8), [1]])
        let message = try #require(try sub.receiveMessage())
        #expect(message.frames == [Array("incident.reported/G-1".utf8), [1]])
    }

    @Test func pollerWakesOnSocketsAndOnWakeups() throws {
        let pull = try ZMQSocket(context: context, type: .pull)
        try pull.bind("tcp://127.0.0.1:*")
        let push = try ZMQSocket(context: context, type: .push)
        try push.connect(try pull.lastEndpoint)
        let wakeup = ZMQWakeup()
        var poller = ZMQPoller()
        let socketIndex = poller.add(pull)
        let wakeIndex = poller.add(fileDescriptor: wakeup.fileDescriptor)

        #expect(try poller.poll(timeoutMilliseconds: 0) == 0)
        wakeup.signal()
        wakeup.signal()  // signals coalesce
        #expect(try poller.poll(timeoutMilliseconds: 1000) == 1)
        #expect(poller.events(at: wakeIndex).contains(.readable))
        wakeup.drain()
        #expect(try poller.poll(timeoutMilliseconds: 0) == 0)

        try push.send("hello")
        #expect(try poller.poll(timeoutMilliseconds: 5000) == 1)
        #expect(poller.events(at: socketIndex).contains(.readable))
        #expect(try pull.receiveMessage(dontWait: true)?.frames == [Array("hello".utf8)])
    }

    @Test func monitorReportsListeningAndAccepted() throws {
        let router = try ZMQSocket(context: context, type: .router)
        try router.startMonitor(endpoint: "inproc://monitor-test")
        let monitor = try ZMQSocket(context: context, type: .pair)
        try monitor.connect("inproc://monitor-test")
        try monitor.setReceiveTimeout(milliseconds: 5000)
        try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZMQSocket(context: context, type: .dealer)
        try dealer.connect(try router.lastEndpoint)

        var kinds: [ZMQMonitorEvent.Kind] = []
        while !kinds.contains(.accepted), let message = try monitor.receiveMessage() {
            kinds.append(try #require(ZMQMonitorEvent(message)).kind)
        }
        #expect(kinds.first == .listening)
        #expect(kinds.contains(.accepted))
    }

    @Test func contextShutdownInterruptsABlockingReceive() async throws {
        let context = ZMQContext()
        let outcome = BoundedBuffer<Bool>(capacity: 1)
        let thread = ZMQThread(name: "blocked") {
            do {
                let socket = try ZMQSocket(context: context, type: .pull)
                try socket.bind("tcp://127.0.0.1:*")
                _ = try socket.receiveMessage()
                _ = outcome.tryPush(false)
            } catch {
                _ = outcome.tryPush((error as? ZMQError)?.isContextTerminated ?? false)
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        context.shutdown()
        await thread.join()
        #expect(await outcome.pop() == true)
    }

    @Test func curveKeysRoundTripThroughZ85() throws {
        let pair = try ZMQCurveKeyPair.generate()
        #expect(pair.publicKey.z85.count == 40)
        #expect(try ZMQCurveKey(z85: pair.publicKey.z85) == pair.publicKey)
        #expect(pair.publicKey != pair.secretKey)
        #expect("\(pair.secretKey)" == "ZMQCurveKey(…)")  // never printed by accident
        #expect(throws: ZMQError.self) { try ZMQCurveKey(z85: "too short") }
    }

    @Test func socketOptionsAreAccepted() throws {
        let socket = try ZMQSocket(context: context, type: .xpublish)
        try socket.setSendHighWaterMark(10)
        try socket.setReceiveHighWaterMark(10)
        try socket.setLinger(milliseconds: 100)
        try socket.setXPubVerbose(true)
        try socket.setXPubNoDrop(false)
        try socket.setXPubManual(false)
        try socket.setHeartbeat(intervalMilliseconds: 1000, timeoutMilliseconds: 3000, ttlMilliseconds: 5000)
        try socket.setMaximumMessageSize(1 << 20)
        try socket.setImmediate(true)
        let pair = try ZMQCurveKeyPair.generate()
        try socket.setCurveServer(true)
        try socket.setCurveSecretKey(pair.secretKey)
        try socket.setZAPDomain("gridbus")
        #expect(try socket.fileDescriptor >= 0)
    }
}
