import Foundation
import GridBusClient
import GridSchema
import Synchronization
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// The brokers (o) compares gridbusd with, from Debian's packages, each on a free loopback port
/// with its data in the work directory.
struct Brokers {
    let nats: Server
    let natsPort: Int
    let redis: Server
    let redisPort: Int
    let mosquitto: Server
    let mosquittoPort: Int

    init(workDirectory: String, context: ZMQContext) throws {
        let directory = workDirectory + "/brokers"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory + "/jetstream", withIntermediateDirectories: true)
        natsPort = try freePort(context)
        nats = try Server(
            URL(fileURLWithPath: "/usr/sbin/nats-server"),
            ["-a", "127.0.0.1", "-p", "\(natsPort)", "-js", "-sd", directory + "/jetstream"],
            log: directory + "/nats.log"
        )
        redisPort = try freePort(context)
        redis = try Server(
            URL(fileURLWithPath: "/usr/bin/redis-server"),
            ["--bind", "127.0.0.1", "--port", "\(redisPort)", "--save", "", "--appendonly", "no", "--dir", directory],
            log: directory + "/redis.log"
        )
        mosquittoPort = try freePort(context)
        try "listener \(mosquittoPort) 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\nset_tcp_nodelay true\n"
            .write(toFile: directory + "/mosquitto.conf", atomically: true, encoding: .utf8)
        mosquitto = try Server(URL(fileURLWithPath: "/usr/sbin/mosquitto"), ["-c", directory + "/mosquitto.conf"], log: directory + "/mosquitto.log")
        usleep(700_000)
    }

    func stop() {
        nats.stop()
        redis.stop()
        mosquitto.stop()
    }
}

/// A 200-byte payload carrying its index in the first 8 bytes (little endian).
func indexedPayload(_ index: Int, size: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0x61, count: size)
    withUnsafeBytes(of: UInt64(index).littleEndian) { for (offset, byte) in $0.enumerated() { bytes[offset] = byte } }
    return bytes
}

func payloadIndex<C: Collection<UInt8>>(_ bytes: C) -> Int? where C.Index == Int {
    guard bytes.count >= 8 else { return nil }
    var value: UInt64 = 0
    for offset in 0..<8 { value |= UInt64(bytes[bytes.startIndex + offset]) << (8 * offset) }
    return Int(UInt64(littleEndian: value))
}

/// The index of a `benchEvent`, from its id (`"id":"UUID:N"`).
func benchEventIndex(_ bytes: [UInt8]) -> Int? {
    guard let id = bytes.firstRange(of: Array(#""id":""#.utf8)), let range = bytes[id.upperBound...].firstRange(of: [UInt8(ascii: ":")]) else {
        return nil
    }
    var value = 0
    var position = range.upperBound
    while position < bytes.count, let digit = Int(exactly: bytes[position]).map({ $0 - 48 }), (0...9).contains(digit) {
        value = value * 10 + digit
        position += 1
    }
    return value
}

// MARK: Acknowledged publishes, `window` in flight

/// JetStream: a file-storage stream (with `replicas`, on a cluster: each ACK after a quorum has
/// it); every publish answered by the server's stored ACK.
func measureJetStreamAcked(port: Int, count: Int, size: Int, window: Int, replicas: Int = 1) throws -> Double {
    let client = try NATSClient(port: port)
    let created = try client.request(
        "$JS.API.STREAM.CREATE.BENCH",
        #"{"name":"BENCH","subjects":["bench.>"],"storage":"file","retention":"limits","discard":"old","num_replicas":\#(replicas)}"#
    )
    guard created.contains("\"config\"") else { throw BenchError("JetStream stream not created: \(created)") }
    try client.subscribe("_INBOX.acks", id: 1)
    let payload = [UInt8](repeating: 0x61, count: size)
    var (sent, acked) = (0, 0)
    let start = now()
    while acked < count {
        while sent < count && sent - acked < window {
            client.publish("bench.d", reply: "_INBOX.acks", payload)
            sent += 1
        }
        try client.socket.flush()
        repeat {
            guard let message = try client.next() else { throw BenchError("JetStream closed") }
            if message.subject == "_INBOX.acks" {
                guard message.payload.starts(with: Array(#"{"stream":"BENCH""#.utf8)) else {
                    throw BenchError("JetStream refused: \(String(decoding: message.payload, as: UTF8.self))")
                }
                acked += 1
            }
        } while acked < sent && (sent - acked > window / 2 || sent == count)
    }
    let rate = Double(count) / (Double(now() - start) / 1e9)
    _ = try client.request("$JS.API.STREAM.DELETE.BENCH", "")  // the next sample starts from an empty store, as gridbusd's does
    return rate
}

/// Mosquitto QoS 1: the broker's PUBACK (in memory: persistence writes only on its autosave).
func measureMQTTAcked(port: Int, count: Int, size: Int, window: Int) throws -> Double {
    let client = try MQTTClient(port: port, clientID: "bench-acked")
    let payload = [UInt8](repeating: 0x61, count: size)
    var (sent, acked) = (0, 0)
    let start = now()
    while acked < count {
        while sent < count && sent - acked < min(window, 65_000) {
            client.publish("bench/d", payload, packetID: UInt16(sent % 65_535 + 1))
            sent += 1
        }
        try client.socket.flush()
        repeat {
            if try client.read().type == 0x40 { acked += 1 }
        } while acked < sent && (sent - acked > window / 2 || sent == count)
    }
    return Double(count) / (Double(now() - start) / 1e9)
}

// MARK: Live fan-out, publisher as fast as it can

/// Messages per second at the slowest of `subscribers` subscribers, first to last, and how many
/// never arrived, summed over them (a broker may drop for a slow consumer). `publish` sends message
/// n; `subscribe` connects one subscriber and returns how it receives the next index.
func measureFanOut(
    count: Int,
    subscribers: Int = 1,
    subscribe: @escaping @Sendable () throws -> (() throws -> Int?),
    publish: (Int) throws -> Void,
    flush: () throws -> Void
) throws -> (rate: Double, lost: Int) {
    let ready = BoundedBuffer<Bool>(capacity: subscribers)
    let receivers = (0..<subscribers).map { number in
        Background<(Double, Int)>("fanout-\(number)") {
            let receive = try subscribe()
            _ = ready.tryPush(true)
            var received = 0
            var (first, last): (UInt64, UInt64) = (0, 0)
            var highest = -1
            while highest < count - 1 {
                guard let index = try receive() else { break }
                if received == 0 { first = now() }
                received += 1
                last = now()
                highest = max(highest, index)
            }
            return (Double(received - 1) / (Double(last - first) / 1e9), count - received)
        }
    }
    for _ in 0..<subscribers { _ = ready.popBlocking(timeout: 30) }
    for n in 0..<count {
        try publish(n)
        if n % 64 == 63 { try flush() }
    }
    try flush()
    let results = try receivers.map { try $0.value() }
    return (results.map(\.0).min()!, results.map(\.1).reduce(0, +))
}

// MARK: End-to-end latency at a fixed rate

/// Publish → subscriber latency at `rate` for `seconds`, measured from each message's scheduled
/// send time (no coordinated omission): (p50, p99) in µs.
func measurePacedLatency(
    rate: Int,
    seconds: Int,
    subscribe: @escaping @Sendable () throws -> (() throws -> Int?),
    publish: (Int) throws -> Void,
    flush: () throws -> Void
) throws -> (p50: Double, p99: Double) {
    let count = rate * seconds
    let ready = BoundedBuffer<Bool>(capacity: 1)
    let start = Atomic<UInt64>(0)
    let interval = 1e9 / Double(rate)
    let subscriber = Background<[UInt64]>("latency") {
        let receive = try subscribe()
        _ = ready.tryPush(true)
        var latencies: [UInt64] = []
        latencies.reserveCapacity(count)
        while latencies.count < count {
            guard let index = try receive() else { break }
            let due = start.load(ordering: .acquiring) + UInt64(Double(index) * interval)
            let arrived = now()
            latencies.append(arrived > due ? arrived - due : 0)
        }
        return latencies
    }
    _ = ready.popBlocking(timeout: 30)
    let begin = now()
    start.store(begin, ordering: .releasing)
    var sent = 0
    while sent < count {
        // Pace in 1 ms ticks: send what is due, then sleep to the next tick.
        let elapsed = Double(now() - begin)
        while sent < count && Double(sent) * interval <= elapsed {
            try publish(sent)
            sent += 1
        }
        try flush()
        usleep(1000)
    }
    var latencies = try subscriber.value()
    guard latencies.count == count else { throw BenchError("only \(latencies.count) of \(count) messages arrived") }
    latencies.sort()
    return (Double(latencies.quantile(0.5)) / 1000, Double(latencies.quantile(0.99)) / 1000)
}

// MARK: Acknowledged publishes head to head

/// gridbusd (durability full and normal; one and 64 events per PUB) and JetStream's file store,
/// acknowledged publishes with no subscriber, taken in turns for `rounds` rounds (the order
/// rotating each round), each sample on a fresh store: on a noisy machine, one sample each says
/// little. `normal` is the like-for-like setting: JetStream's file store hands each message to the
/// OS and fsyncs every two minutes; gridbusd's `normal` commits to the OS and fsyncs at checkpoints.
/// - Returns: a Markdown table of medians and samples.
func measureAckedHeadToHead(
    bin: URL,
    workDirectory: String,
    context: ZMQContext,
    brokers: Brokers,
    count: Int,
    size: Int,
    window: Int,
    rounds: Int
) throws -> String {
    func gridbusd(_ durability: String, _ perPublish: Int, _ sample: Int) throws -> Double {
        let (daemon, ingress, _, _) = try startDaemon(
            bin: bin,
            directory: workDirectory + "/gridbusd-h2h-\(durability)-\(perPublish)-\(sample)",
            extra: ["--journal-durability", durability]
        )
        defer { daemon.stop() }
        return try measurePublishOnly(context: context, ingress: ingress, count: count, size: size, window: window, perPublish: perPublish)
    }
    let systems: [(name: String, measure: (Int) throws -> Double)] = [
        ("gridbusd, durability full, 1 event per PUB", { try gridbusd("full", 1, $0) }),
        ("gridbusd, durability full, 64 events per PUB", { try gridbusd("full", 64, $0) }),
        ("gridbusd, durability normal, 1 event per PUB", { try gridbusd("normal", 1, $0) }),
        ("gridbusd, durability normal, 64 events per PUB", { try gridbusd("normal", 64, $0) }),
        ("NATS 2.9.10 JetStream, file storage", { _ in try measureJetStreamAcked(port: brokers.natsPort, count: count, size: size, window: window) }),
    ]
    var samples = Array(repeating: [Double](), count: systems.count)
    for round in 0..<rounds {
        for turn in 0..<systems.count {
            let index = (turn + round) % systems.count
            samples[index].append(try systems[index].measure(round))
            FileHandle.standardError.write(
                Data("(o) head to head, round \(round + 1): \(systems[index].name) \(Int(samples[index].last!)) /s\n".utf8)
            )
        }
    }
    let jetStream = median(samples[systems.count - 1])  // the reference is the last system
    var table = "| acknowledged publish, no subscriber, \(rounds) rounds in turns | median | × JetStream | samples |\n| --- | --- | --- | --- |\n"
    for (index, system) in systems.enumerated() {
        table +=
            "| \(system.name) | \(Int(median(samples[index]))) /s | \(String(format: "%.2f", median(samples[index]) / jetStream)) | "
            + samples[index].map { "\(Int($0))" }.joined(separator: ", ") + " |\n"
    }
    return table
}

// MARK: The five systems, one row each

struct ComparisonRow {
    var system: String
    var acked: String
    var fanOut: String
    var latency: String
}

/// (o): gridbusd, libzmq's proxy, NATS (JetStream for acknowledged publishes), Redis pub/sub and
/// Mosquitto, in one run on this machine, 200-byte messages, one publisher and one subscriber each;
/// live fan-out also to four subscribers.
/// One system of the comparison other than gridbusd, as the shared measurements drive it: its
/// acknowledged publishes (if it has any), a publisher, and how a subscriber reads.
struct LiveSystem {
    /// Its row in the table, and its name in the fan-out-to-many table.
    let name: String
    let shortName: String
    /// Acknowledged publishes per second; nil for a system that acknowledges nothing (`unacknowledged` says why).
    let acknowledged: (() throws -> Double)?
    let unacknowledged: String
    /// A publisher of message `n`, what sends what it buffered, and what ends it.
    let publisher: () throws -> (publish: (Int) throws -> Void, flush: () throws -> Void, close: () -> Void)
    /// A new subscriber, as a function that returns the next message's index (nil: no more).
    let subscribe: @Sendable () throws -> (() throws -> Int?)
}

/// libzmq's proxy (started here, stopped with `stop`), NATS, Redis and Mosquitto (`brokers`).
func liveSystems(
    bin: URL,
    workDirectory: String,
    context: ZMQContext,
    brokers: Brokers,
    count: Int,
    size: Int,
    window: Int
) throws -> (
    systems: [LiveSystem], stop: () -> Void
) {
    let ports = (try freePort(context), try freePort(context))
    let proxy = try Server(
        bin.appendingPathComponent("zmq-proxy-baseline"),
        ["tcp://127.0.0.1:\(ports.0)", "tcp://127.0.0.1:\(ports.1)"],
        log: workDirectory + "/proxy-o.log"
    )
    usleep(200_000)
    let backend = "tcp://127.0.0.1:\(ports.1)"
    let (natsPort, redisPort, mosquittoPort) = (brokers.natsPort, brokers.redisPort, brokers.mosquittoPort)
    let proxySystem = LiveSystem(
        name: "libzmq XSUB/XPUB proxy (C)",
        shortName: "libzmq XSUB/XPUB proxy (C)",
        acknowledged: nil,
        unacknowledged: "— (no acknowledgement, nothing stored)",
        publisher: {
            let pub = try ZMQSocket(context: context, type: .publish)
            try pub.setSendHighWaterMark(0)
            try pub.connect("tcp://127.0.0.1:\(ports.0)")
            return ({ n in try pub.send(indexedPayload(n, size: size)) }, {}, { pub.close() })
        },
        subscribe: {
            let sub = try ZMQSocket(context: context, type: .subscribe)
            try sub.setReceiveHighWaterMark(0)
            try sub.subscribe("")
            try sub.connect(backend)
            try sub.setReceiveTimeout(milliseconds: 10_000)
            usleep(500_000)  // the subscription travels through the proxy to the publisher
            return { try sub.receiveFrame().flatMap { payloadIndex($0.bytes) } }
        }
    )
    // NATS: JetStream file storage for acknowledged publishes; core pub/sub for fan-out and latency.
    let nats = LiveSystem(
        name: "NATS 2.9.10 (JetStream file storage for acked; core pub/sub otherwise)",
        shortName: "NATS 2.9.10 core pub/sub",
        acknowledged: { try measureJetStreamAcked(port: natsPort, count: count, size: size, window: window) },
        unacknowledged: "",
        publisher: {
            let publisher = try NATSClient(port: natsPort)
            return ({ n in publisher.publish("bench.live", indexedPayload(n, size: size)) }, { try publisher.socket.flush() }, {})
        },
        subscribe: {
            let client = try NATSClient(port: natsPort)
            try client.subscribe("bench.live", id: 1)
            return {
                while let message = try client.next() { if message.subject == "bench.live" { return payloadIndex(message.payload) } }
                return nil
            }
        }
    )
    // Redis pub/sub: nothing acknowledged or stored; every PUBLISH's reply is read at the flush.
    let redis = LiveSystem(
        name: "Redis 7.0 pub/sub",
        shortName: "Redis 7.0 pub/sub",
        acknowledged: nil,
        unacknowledged: "— (pub/sub stores nothing)",
        publisher: {
            let publisher = try RedisClient(port: redisPort)
            var unanswered = 0
            return (
                { n in
                    publisher.publish("bench", indexedPayload(n, size: size))
                    unanswered += 1
                },
                {
                    try publisher.socket.flush()
                    while unanswered > 0 {
                        try publisher.publishReply()
                        unanswered -= 1
                    }
                },
                {}
            )
        },
        subscribe: {
            let client = try RedisClient(port: redisPort)
            try client.subscribe("bench")
            return { payloadIndex(try client.message()) }
        }
    )
    // Mosquitto: QoS 1 PUBACK for acknowledged (memory only), QoS 0 for fan-out and latency.
    let mosquitto = LiveSystem(
        name: "Mosquitto 2.0.11 (QoS 1 PUBACK for acked, in memory; QoS 0 otherwise)",
        shortName: "Mosquitto 2.0.11 QoS 0",
        acknowledged: { try measureMQTTAcked(port: mosquittoPort, count: count, size: size, window: window) },
        unacknowledged: "",
        publisher: {
            let publisher = try MQTTClient(port: mosquittoPort, clientID: "bench-pub")
            return ({ n in publisher.publish("bench/live", indexedPayload(n, size: size)) }, { try publisher.socket.flush() }, {})
        },
        subscribe: {
            let client = try MQTTClient(port: mosquittoPort, clientID: "bench-sub-\(now())")
            try client.subscribe("bench/live")
            return {
                while true {
                    let packet = try client.read()
                    if packet.type & 0xF0 == 0x30 { return payloadIndex(MQTTClient.payload(of: packet.body)) }
                }
            }
        }
    )
    return ([proxySystem, nats, redis, mosquitto], { proxy.stop() })
}

func measureComparison(
    bin: URL,
    workDirectory: String,
    context: ZMQContext,
    count: Int,
    size: Int,
    window: Int,
    rate: Int,
    rounds: Int,
    gridbusd: (acked: Double, fanOut: Double)?
) throws -> (rows: [ComparisonRow], headToHead: String, fanOutToMany: String) {
    func perSecond(_ value: Double) -> String { String(format: "%.0f /s", value) }
    func latency(_ value: (p50: Double, p99: Double)) -> String { String(format: "p50 %.0f µs, p99 %.0f µs", value.p50, value.p99) }
    func fanOutText(_ rate: Double, lost: Int) -> String { perSecond(rate) + (lost > 0 ? " (lost \(lost))" : "") }
    func log(_ text: String) { FileHandle.standardError.write(Data(("(o) " + text + "\n").utf8)) }
    var rows: [ComparisonRow] = []
    // Live fan-out to several subscribers, as a deployment has (four workers, monitoring tools).
    let many = 4
    var toMany: [(system: String, rate: Double, lost: Int)] = []

    // Acknowledged publishes measured as JetStream's are below: one publisher, no subscriber, a
    // fresh store. (b) runs a subscriber on the egress at the same time, which on two cores takes
    // CPU from the daemon and the publisher; both figures go in the table.
    func measureAckedAlone(durability: String, perPublish: Int = 1) throws -> Double {
        let (daemon, ingress, _, _) = try startDaemon(
            bin: bin,
            directory: workDirectory + "/gridbusd-o-alone-\(durability)-\(perPublish)",
            extra: ["--journal-durability", durability]
        )
        defer { daemon.stop() }
        let acked = try measurePublishOnly(context: context, ingress: ingress, count: count, size: size, window: window, perPublish: perPublish)
        log("gridbusd (\(durability), \(perPublish) per PUB) acked, no subscriber: \(perSecond(acked))")
        return acked
    }

    // gridbusd: (c) from this run; latency publish → egress subscriber.
    do {
        let acked = try measureAckedAlone(durability: "full")
        let (daemon, ingress, egress, _) = try startDaemon(bin: bin, directory: workDirectory + "/gridbusd-o")
        defer { daemon.stop() }
        let dealer = try ZMQSocket(context: context, type: .dealer)
        try dealer.setSendHighWaterMark(0)
        try dealer.connect(ingress)
        let events = (0..<(rate * 5)).map { benchEvent($0, size: size) }
        let result = try measurePacedLatency(
            rate: rate,
            seconds: 5,
            subscribe: {
                let sub = try egressSubscriber(context: context, egress: egress)
                return {
                    while let message = try nextIncidentEvent(sub, quiet: 10) {
                        if let index = benchEventIndex(message.frames[2]) { return index }
                    }
                    return nil
                }
            },
            publish: { n in try dealer.send(frames: [BusProtocol.publish, BusProtocol.encode(UInt64(n)), events[n]]) },
            flush: { while try dealer.receiveMessage(dontWait: true) != nil {} }
        )
        dealer.close()
        log("gridbusd latency \(latency(result))")
        rows.append(
            ComparisonRow(
                system: "gridbusd (durability full: fsync per group commit)",
                acked: perSecond(acked) + (gridbusd.map { " (\(perSecond($0.acked)) with a subscriber reading: (b))" } ?? ""),
                fanOut: gridbusd.map { perSecond($0.fanOut) } ?? "run with c",
                latency: latency(result)
            )
        )
    }
    // Fan-out to many, with one event per PUB and with 64 (each still ACKed on its own).
    for perPublish in [1, 64] {
        let (daemon, ingress, egress, _) = try startDaemon(bin: bin, directory: workDirectory + "/gridbusd-o-many-\(perPublish)")
        defer { daemon.stop() }
        let result = try measurePublish(
            context: context,
            ingress: ingress,
            egress: egress,
            count: count,
            size: size,
            window: window,
            perPublish: perPublish,
            subscribers: many
        )
        log("gridbusd (full, \(perPublish) per PUB) fan-out to \(many): \(perSecond(result.fanOutPerSecond)) each (lost \(result.fanOutLost))")
        toMany.append(
            ("gridbusd, durability full, \(perPublish) event\(perPublish == 1 ? "" : "s") per PUB", result.fanOutPerSecond, result.fanOutLost)
        )
    }
    // gridbusd with publishers that put many events in one PUB (each still checked, journaled and
    // ACKed on its own; the ACKs of one PUB come back in one message; the other clients write 64
    // messages at a time too, as separate protocol messages: none of the others has a batch), and
    // with `journal.durability normal` (no fsync per commit): what JetStream's file store does by
    // default (it syncs every two minutes).
    let variants = [
        (durability: "full", perPublish: 64, system: "gridbusd (durability full; 64 events per PUB)"),
        (durability: "normal", perPublish: 1, system: "gridbusd (durability normal: no fsync per commit, as JetStream's default)"),
    ]
    for variant in variants {
        let acked = try measureAckedAlone(durability: variant.durability, perPublish: variant.perPublish)
        let (daemon, ingress, egress, _) = try startDaemon(
            bin: bin,
            directory: workDirectory + "/gridbusd-o-\(variant.durability)-\(variant.perPublish)",
            extra: ["--journal-durability", variant.durability]
        )
        defer { daemon.stop() }
        let result = try measurePublish(
            context: context,
            ingress: ingress,
            egress: egress,
            count: count,
            size: size,
            window: window,
            perPublish: variant.perPublish
        )
        log(
            "\(variant.system) with a subscriber: acked \(perSecond(result.ackedPerSecond)), fan-out \(perSecond(result.fanOutPerSecond)) (lost \(result.fanOutLost))"
        )
        rows.append(
            ComparisonRow(
                system: variant.system,
                acked: perSecond(acked) + " (\(perSecond(result.ackedPerSecond)) with a subscriber reading)",
                fanOut: fanOutText(result.fanOutPerSecond, lost: result.fanOutLost),
                latency: "—"
            )
        )
    }

    let brokers = try Brokers(workDirectory: workDirectory, context: context)
    defer { brokers.stop() }
    let headToHead = try measureAckedHeadToHead(
        bin: bin,
        workDirectory: workDirectory,
        context: context,
        brokers: brokers,
        count: count,
        size: size,
        window: window,
        rounds: rounds
    )
    // The others, each measured the same way.
    let (systems, stopSystems) = try liveSystems(
        bin: bin,
        workDirectory: workDirectory,
        context: context,
        brokers: brokers,
        count: count,
        size: size,
        window: window
    )
    defer { stopSystems() }
    for system in systems {
        let acked = try system.acknowledged?()
        let publisher = try system.publisher()
        defer { publisher.close() }
        let fanOut = try measureFanOut(count: count, subscribe: system.subscribe, publish: publisher.publish, flush: publisher.flush)
        let fanOutToMany = try measureFanOut(
            count: count,
            subscribers: many,
            subscribe: system.subscribe,
            publish: publisher.publish,
            flush: publisher.flush
        )
        toMany.append((system.shortName, fanOutToMany.rate, fanOutToMany.lost))
        let result = try measurePacedLatency(rate: rate, seconds: 5, subscribe: system.subscribe, publish: publisher.publish, flush: publisher.flush)
        log(
            "\(system.shortName): acked \(acked.map(perSecond) ?? "—"), fan-out \(perSecond(fanOut.rate)) (lost \(fanOut.lost)), latency \(latency(result))"
        )
        rows.append(
            ComparisonRow(
                system: system.name,
                acked: acked.map(perSecond) ?? system.unacknowledged,
                fanOut: fanOutText(fanOut.rate, lost: fanOut.lost),
                latency: latency(result)
            )
        )
    }
    var table =
        "| live fan-out to \(many) subscribers, one publisher | messages per second each (the slowest subscriber) | lost, all subscribers |\n| --- | --- | --- |\n"
    for row in toMany { table += "| \(row.system) | \(perSecond(row.rate)) | \(row.lost) |\n" }
    return (rows, headToHead, table)
}
