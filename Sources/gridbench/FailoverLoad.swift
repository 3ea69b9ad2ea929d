import Foundation
import GridSchema
import Synchronization
import ZeroMQ

/// A steady publisher through the failovers of (s), as docs/protocol.md asks of a client in a
/// cluster: on `NACK not-leader` or a second of silence it turns to the other node and sends again,
/// with the same ids, everything not yet ACKed. Afterwards ``verify(context:replay:)`` replays the
/// journal from 0: every ACKed event must be there exactly once, and the sequences without a gap.
final class FailoverLoad: Sendable {
    /// Event indices start here, apart from the failover probes' own.
    static let firstIndex = 1_000_000_000
    private let ingresses: Mutex<[String]>
    private let acked = Mutex<Set<Int>>([])
    private let stopping = Atomic<Bool>(false)
    private let finished = Mutex<Result<Int, BenchError>?>(nil)
    private let size: Int

    /// - Parameters:
    ///   - ingresses: the nodes' ingress endpoints; a node started again replaces its entry (``replace(_:with:)``).
    ///   - rate: events per second, in windows of 50.
    init(context: ZMQContext, ingresses: [String], rate: Int, size: Int) {
        self.ingresses = Mutex(ingresses)
        self.size = size
        let thread = Thread { [self] in
            let outcome = Result { try self.run(context: context, rate: rate) }.mapError { $0 as? BenchError ?? BenchError("\($0)") }
            finished.withLock { $0 = outcome }
        }
        thread.name = "failover-load"
        thread.start()
    }

    func replace(_ index: Int, with ingress: String) { ingresses.withLock { $0[index] = ingress } }

    /// Stops publishing, waits until everything sent is ACKed, and returns how many were.
    func stop() throws -> Int {
        stopping.store(true, ordering: .relaxed)
        while true {
            if let outcome = finished.withLock({ $0 }) { return try outcome.get() }
            usleep(10_000)
        }
    }

    private func run(context: ZMQContext, rate: Int) throws -> Int {
        var target = 0
        var dealer: ZMQSocket?
        var connectedTo = ""
        var pending: [UInt64: [UInt8]] = [:]
        var next = Self.firstIndex
        var lastAnswer = now()
        let started = now()
        let window = 50
        var stoppedAt: UInt64?
        defer { dealer?.close() }
        while !(stopping.load(ordering: .relaxed) && pending.isEmpty) {
            if stopping.load(ordering: .relaxed) {
                let since = stoppedAt ?? now()
                stoppedAt = since
                guard Double(now() - since) / 1e9 < 60 else { throw BenchError("\(pending.count) events not ACKed within 60 s of the last kill") }
            }
            let endpoint = ingresses.withLock { $0[target % $0.count] }
            if endpoint != connectedTo {
                dealer?.close()
                let socket = try ZMQSocket(context: context, type: .dealer)
                try socket.setReceiveTimeout(milliseconds: 100)
                try socket.connect(endpoint)
                dealer = socket
                connectedTo = endpoint
                lastAnswer = now()
                // Everything not ACKed again, with the same ids: the journal answers a committed one as a duplicate.
                for (token, event) in pending.sorted(by: { $0.key < $1.key }) {
                    try socket.send(frames: [BusProtocol.publish, BusProtocol.encode(token), event])
                }
            }
            guard let dealer else { continue }
            let due = Int(Double(now() - started) / 1e9 * Double(rate)) + Self.firstIndex
            while !stopping.load(ordering: .relaxed), pending.count < window, next < due {
                let event = benchEvent(next, size: size)
                pending[UInt64(next)] = event
                try dealer.send(frames: [BusProtocol.publish, BusProtocol.encode(UInt64(next)), event])
                next += 1
            }
            guard let answer = try dealer.receiveMessage()?.frames else {
                if !pending.isEmpty, Double(now() - lastAnswer) / 1e9 > 1 {
                    target += 1  // silence: the other node
                    connectedTo = ""
                }
                continue
            }
            lastAnswer = now()
            guard answer.count >= 3, let token = BusProtocol.decodeInteger(answer[1]) else { continue }
            if answer[0] == BusProtocol.ack {
                if pending.removeValue(forKey: token) != nil { acked.withLock { _ = $0.insert(Int(token)) } }
            } else if answer[0] == BusProtocol.nack {
                // not-leader names the leader when it knows it; otherwise (or a node between
                // leaders) the other node, with everything pending.
                let leader = answer.count >= 4 ? String(decoding: answer[3], as: UTF8.self) : ""
                if let index = ingresses.withLock({ $0.firstIndex(of: leader) }) {
                    target = index
                } else {
                    target += 1
                    usleep(20_000)
                }
                connectedTo = ""
            }
        }
        return acked.withLock { $0.count }
    }

    /// Replays the whole journal from `replay`: throws unless every ACKed event is there exactly
    /// once, no event of any kind twice, and the sequences run without a gap.
    func verify(context: ZMQContext, replay: String) throws -> (events: Int, acked: Int) {
        let acked = self.acked.withLock { $0 }
        let (sequences, indices) = try replayAll(context: context, replay: replay)
        var seen = Set<Int>()
        for index in indices where !seen.insert(index).inserted { throw BenchError("event \(index) journaled twice") }
        let lost = acked.subtracting(seen)
        guard lost.isEmpty else { throw BenchError("\(lost.count) ACKed events missing from the journal, e.g. \(lost.sorted().prefix(5))") }
        for (previous, sequence) in zip(sequences, sequences.dropFirst()) where sequence != previous + 1 {
            throw BenchError("a gap in the journal's sequences after \(previous)")
        }
        return (indices.count, acked.count)
    }

    private func replayAll(context: ZMQContext, replay: String) throws -> (sequences: [UInt64], indices: [Int]) {
        try onThread("failover-verify") {
            let dealer = try ZMQSocket(context: context, type: .dealer)
            defer { dealer.close() }
            try dealer.setReceiveHighWaterMark(0)
            try dealer.setReceiveTimeout(milliseconds: 30_000)
            try dealer.connect(replay)
            var cursor: UInt64 = 0
            var sequences: [UInt64] = []
            var indices: [Int] = []
            while true {
                try dealer.send(frames: [BusProtocol.replay, BusProtocol.encode(cursor), BusProtocol.encode(10_000), []])
                var head: UInt64 = 0
                while let message = try dealer.receiveMessage() {
                    if message.frames[0] == BusProtocol.end {
                        cursor = BusProtocol.decodeInteger(message.frames[1]) ?? cursor
                        head = BusProtocol.decodeInteger(message.frames[2]) ?? 0
                        break
                    }
                    guard let event = message.frames.last, let index = benchEventIndex(event) else {
                        throw BenchError("an unreadable replayed event")
                    }
                    if message.frames.count >= 3, let sequence = BusProtocol.decodeInteger(message.frames[message.frames.count - 2]) {
                        sequences.append(sequence)
                    }
                    indices.append(index)
                }
                if cursor >= head { break }
            }
            return (sequences, indices)
        }
    }
}
