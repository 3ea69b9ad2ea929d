import Foundation
import GridBusClient
import GridDistrict
import GridSchema
import ZeroMQ

/// A CloudEvent of exactly `size` bytes with a unique id (padding in `data`).
///
/// The id looks like what publishers send — a random UUID — followed by `:N`; ids in order
/// ("b-1", "b-2", …) flattered the journal 4× while it kept a B-tree index of them (run S).
/// Pseudo-random from `n`, so that runs are alike.
func benchEvent(_ n: Int, size: Int = 200) -> [UInt8] {
    let head =
        #"{"specversion":"1.0","id":"\#(pseudoUUID(n)):\#(n)","source":"bench","type":"incident.acknowledged","grid":"G-\#(n % 16)","data":{"schemaVersion":1,"p":""#
    let tail = #""}}"#
    let padding = max(0, size - head.utf8.count - tail.utf8.count)
    return Array((head + String(repeating: "x", count: padding) + tail).utf8)
}

/// A UUID-shaped id from `n` (`SeededRandom`), lowercase as `CloudEvent` writes them.
func pseudoUUID(_ n: Int) -> String {
    var random = SeededRandom(state: UInt64(n))
    let digits = Array(String(format: "%016llx%016llx", random.next(), random.next()))
    return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(digits[$0]) }.joined(separator: "-")
}

/// (a) libzmq's proxy: one PUB → XSUB/XPUB → one SUB, `count` messages of `size` bytes, HWM 0.
/// Returns messages per second at the subscriber (first to last message).
func measureProxy(context: ZMQContext, frontend: String, backend: String, count: Int, size: Int) throws -> Double {
    let received = Background<Double>("proxy-sub") {
        let sub = try ZMQSocket(context: context, type: .subscribe)
        try sub.setReceiveHighWaterMark(0)
        try sub.subscribe("")
        try sub.connect(backend)
        try sub.setReceiveTimeout(milliseconds: 30_000)
        // Wait for the publisher's probe messages, which flow once the subscription has arrived.
        while let frame = try sub.receiveFrame(), frame.bytes.count != size {}
        var start: UInt64 = 0
        for n in 1..<count {
            guard (try sub.receiveFrame()) != nil else { throw BenchError("proxy subscriber timed out after \(n)") }
            if n == 1 { start = now() }
        }
        return Double(count - 2) / (Double(now() - start) / 1e9)
    }
    try onThread("proxy-pub") {
        let pub = try ZMQSocket(context: context, type: .publish)
        try pub.setSendHighWaterMark(0)
        try pub.setLinger(milliseconds: 60_000)  // closing must not discard what is still queued
        try pub.connect(frontend)
        // Slow joiner: send small probes until the subscriber is surely subscribed.
        for _ in 0..<200 {
            try pub.send([1])
            usleep(5000)
        }
        let message = [UInt8](repeating: 0x61, count: size)
        for _ in 0..<count { try pub.send(message) }
    }
    return try received.value()
}

/// The middle sample (the upper one of two middles): what every table of samples reports.
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

extension Array where Element: Comparable {
    /// The sample at quantile `q` of a sorted, non-empty array (nearest rank): what every latency
    /// table here reports as p50 and p99.
    func quantile(_ q: Double) -> Element { self[Swift.min(count - 1, Int(Double(count) * q))] }
}

/// (b) Acked, journaled publishes through one DEALER with `window` in flight.
/// Also records (c) at a subscriber connected to the egress: rate and how many it missed.
struct PublishResult {
    var ackedPerSecond: Double
    var fanOutPerSecond: Double
    var fanOutLost: Int
}

func measurePublish(
    context: ZMQContext,
    ingress: String,
    egress: String,
    count: Int,
    size: Int,
    window: Int,
    perPublish: Int = 1,
    subscribers: Int = 1,
    credentials: BusCredentials? = nil
) throws -> PublishResult {
    let subscriberReady = BoundedBuffer<Bool>(capacity: subscribers)
    let fanOut = (0..<subscribers).map { number in
        Background<(Double, Int)>("fanout-sub-\(number)") {
            let sub = try egressSubscriber(context: context, egress: egress, credentials: credentials)
            _ = subscriberReady.tryPush(true)
            var received = 0
            var start: UInt64 = 0
            var last: UInt64 = 0
            var highest: UInt64 = 0
            while highest < UInt64(count), let message = try nextIncidentEvent(sub, quiet: received == 0 ? nil : 10) {
                if received == 0 { start = now() }
                received += 1
                last = now()
                highest = BusProtocol.decodeInteger(message.frames[1]) ?? 0
            }
            return (Double(received - 1) / (Double(last - start) / 1e9), count - received)
        }
    }
    for _ in 0..<subscribers { _ = subscriberReady.popBlocking(timeout: 30) }
    let acked = try measurePublishOnly(
        context: context,
        ingress: ingress,
        count: count,
        size: size,
        window: window,
        perPublish: perPublish,
        credentials: credentials
    )
    // The rate every subscriber got: the slowest one's.
    let results = try fanOut.map { try $0.value() }
    return PublishResult(ackedPerSecond: acked, fanOutPerSecond: results.map(\.0).min()!, fanOutLost: results.map(\.1).reduce(0, +))
}

/// A SUB on gridbusd's egress for `incident.` events, returned once a heartbeat has proved that
/// the subscription reached the daemon.
func egressSubscriber(context: ZMQContext, egress: String, credentials: BusCredentials? = nil) throws -> ZMQSocket {
    let sub = try ZMQSocket(context: context, type: .subscribe)
    try credentials?.apply(to: sub)
    try sub.setReceiveHighWaterMark(0)
    try sub.subscribe("incident.")
    try sub.subscribe("bus.heartbeat/")
    try sub.connect(egress)
    try sub.setReceiveTimeout(milliseconds: 30_000)
    while let message = try sub.receiveMessage(), message.frames[0].first != UInt8(ascii: "b") {}
    return sub
}

/// The next `incident.` event from an `egressSubscriber`, or nil after `quiet` seconds without one
/// (nil: no limit, as before a publisher that builds its events first has sent any). Heartbeats go
/// on arriving, so the receive timeout alone would wait forever for an event the subscriber lost
/// (it fell more than its high-water mark behind).
func nextIncidentEvent(_ sub: ZMQSocket, quiet: Double?) throws -> ZMQMessage? {
    let deadline = quiet.map { now() + UInt64($0 * 1e9) } ?? .max
    while let message = try sub.receiveMessage() {
        if message.frames[0].first == UInt8(ascii: "i") { return message }
        if now() > deadline { return nil }
    }
    return nil
}

/// (d) Replays everything from sequence 0 in batches of `batch`; returns events per second.
func measureReplay(context: ZMQContext, replay: String, expected: Int, batch: Int) throws -> Double {
    try onThread("replay") {
        let dealer = try ZMQSocket(context: context, type: .dealer)
        try dealer.setReceiveHighWaterMark(0)
        try dealer.connect(replay)
        try dealer.setReceiveTimeout(milliseconds: 30_000)
        var cursor: UInt64 = 0
        var received = 0
        let start = now()
        while true {
            try dealer.send(frames: [BusProtocol.replay, BusProtocol.encode(cursor), BusProtocol.encode(UInt64(batch)), []])
            var head: UInt64 = 0
            while let message = try dealer.receiveMessage() {
                if message.frames[0] == BusProtocol.end {
                    cursor = BusProtocol.decodeInteger(message.frames[1])!
                    head = BusProtocol.decodeInteger(message.frames[2])!
                    break
                }
                received += 1
            }
            if cursor >= head { break }
        }
        guard received == expected else { throw BenchError("replayed \(received) of \(expected)") }
        return Double(received) / (Double(now() - start) / 1e9)
    }
}

/// (e) Publish→ACK latency at a fixed rate: returns (p50, p99, max) in microseconds.
func measureLatency(context: ZMQContext, ingress: String, rate: Int, seconds: Int, size: Int, offset: Int) throws -> (Double, Double, Double) {
    try onThread("latency") {
        let count = rate * seconds
        let dealer = try ZMQSocket(context: context, type: .dealer)
        try dealer.connect(ingress)
        let events = (0..<count).map { benchEvent(offset + $0, size: size) }
        var sentAt = [UInt64](repeating: 0, count: count)
        var latencies: [UInt64] = []
        latencies.reserveCapacity(count)
        let interval = 1_000_000_000 / UInt64(rate)
        let start = now()
        var sent = 0
        var poller = ZMQPoller()
        poller.add(dealer)
        // Pace in 1 ms ticks: send every event that is due, then wait in zmq_poll until the next tick.
        // (Waiting for each 100 µs slot would spin a core that the daemon needs on a 2-core machine.)
        while latencies.count < count {
            let elapsed = now() - start
            while sent < count && UInt64(sent) * interval <= elapsed {
                sentAt[sent] = now()
                try dealer.send(frames: [BusProtocol.publish, BusProtocol.encode(UInt64(sent)), events[sent]])
                sent += 1
            }
            try poller.poll(timeoutMilliseconds: 1)
            while let answer = try dealer.receiveMessage(dontWait: true) {
                guard answer.frames[0] == BusProtocol.ack, let index = BusProtocol.decodeInteger(answer.frames[1]) else {
                    throw BenchError("bad answer: " + answer.frames.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " | "))
                }
                latencies.append(now() - sentAt[Int(index)])
            }
        }
        latencies.sort()
        return (Double(latencies.quantile(0.5)) / 1000, Double(latencies.quantile(0.99)) / 1000, Double(latencies.last!) / 1000)
    }
}

/// (f) One subscriber connects and never reads while `count` events are published; returns the
/// daemon's peak RSS and whether the subscriber was reported as lagging.
func measureStalled(context: ZMQContext, daemon: Server, ingress: String, egress: String, count: Int, size: Int) throws -> (peak: Int, before: Int) {
    let stalled = try ZMQSocket(context: context, type: .subscribe)
    try stalled.subscribe("")
    try stalled.connect(egress)
    usleep(300_000)  // let the subscription arrive; from now on this socket is never read
    let before = daemon.currentRSS
    _ = try measurePublishOnly(context: context, ingress: ingress, count: count, size: size, window: 5000)
    let peak = daemon.peakRSS
    stalled.close()
    return (peak, before)
}

/// (b) Acked, journaled publishes through one DEALER with `window` in flight, `perPublish` events
/// per PUB (the ACKs of one PUB come back in one message); returns events per second.
func measurePublishOnly(
    context: ZMQContext,
    ingress: String,
    count: Int,
    size: Int,
    window: Int,
    perPublish: Int = 1,
    credentials: BusCredentials? = nil
) throws -> Double {
    let events = (0..<count).map { benchEvent($0, size: size) }  // built before the clock starts
    return try onThread("publisher") {
        let dealer = try ZMQSocket(context: context, type: .dealer)
        try credentials?.apply(to: dealer)
        try dealer.setSendHighWaterMark(0)
        try dealer.setReceiveHighWaterMark(0)
        try dealer.connect(ingress)
        try dealer.setReceiveTimeout(milliseconds: 30_000)
        var sent = 0
        var answered = 0
        let start = now()
        while answered < count {
            while sent < count && sent - answered < window {
                let events = events[sent..<min(sent + perPublish, count, answered + window)]
                var frames = [BusProtocol.publish]
                frames.reserveCapacity(1 + 2 * events.count)
                for (offset, event) in zip(events.indices, events) {
                    frames.append(BusProtocol.encode(UInt64(offset)))
                    frames.append(event)
                }
                try dealer.send(frames: frames)
                sent += events.count
            }
            guard let answer = try dealer.receiveMessage() else { throw BenchError("no ACK after \(answered)") }
            guard answer.frames[0] == BusProtocol.ack, answer.frames.count % 2 == 1 else {
                throw BenchError("NACK: \(String(decoding: answer.frames.last ?? [], as: UTF8.self))")
            }
            answered += answer.frames.count / 2
        }
        return Double(count) / (Double(now() - start) / 1e9)
    }
}

/// How many journaled events start with `prefix` (replay, in batches).
func countOnBus(context: ZMQContext, replay: String, prefix: String) throws -> Int {
    try onThread("count") {
        let dealer = try ZMQSocket(context: context, type: .dealer)
        try dealer.setReceiveTimeout(milliseconds: 10_000)
        try dealer.connect(replay)
        var from: UInt64 = 0
        var count = 0
        while true {
            try dealer.send(frames: [BusProtocol.replay, BusProtocol.encode(from), BusProtocol.encode(10_000), Array(prefix.utf8)])
            while true {
                guard let message = try dealer.receiveMessage() else { throw BenchError("replay did not answer") }
                if message.frames[0] == BusProtocol.event {
                    count += 1
                    continue
                }
                let next = BusProtocol.decodeInteger(message.frames[1]) ?? 0
                let head = BusProtocol.decodeInteger(message.frames[2]) ?? 0
                if next >= head { return count }
                from = next
                break
            }
        }
    }
}
