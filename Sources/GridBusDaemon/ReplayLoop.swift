import CoreMetrics
import Foundation
import GridSchema
import Logging
import ZeroMQ

/// The replay thread: owns the replay ROUTER and answers `REPLAY`, `STATUS` and `PING`.
///
/// Replay is pulled in bounded batches: each `REPLAY from limit prefix…` is answered with at
/// most `limit` (capped by `replay.max-batch`) `EVENT` messages and one `END next head tail`;
/// the client asks again from `next` until `next` reaches `head`. Memory on both sides stays
/// bounded by one batch.
struct ReplayLoop {
    let configuration: BusConfiguration
    let state: BusState
    let metrics: BusMetrics
    let logger: Logger
    let stop: StopFlag

    func run(socket: ZMQSocket, reader: JournalReader) {
        var poller = ZMQPoller()
        poller.add(socket)
        do {
            while !stop.isSet {
                try poller.poll(timeoutMilliseconds: 100)
                var handled = 0
                while handled < 64, let message = try socket.receiveMessage(dontWait: true) {
                    handled += 1
                    try handle(message.frames, socket: socket, reader: reader)
                }
            }
        } catch {
            if !error.isContextTerminated { logger.error("replay loop stopped", metadata: ["error": "\(error)"]) }
        }
    }

    private func handle(_ frames: [[UInt8]], socket: ZMQSocket, reader: JournalReader) throws(ZMQError) {
        guard frames.count >= 2 else { return }
        let delimited = frames.count >= 3 && frames[1].isEmpty
        let reply = ReplyAddress(routingID: frames[0], delimited: delimited)
        let body = Array(frames[(delimited ? 2 : 1)...])
        do {
            switch body[0] {
            case BusProtocol.replay: try replay(body, reply: reply, socket: socket, reader: reader)
            case BusProtocol.status: try socket.send(frames: reply.frames([BusProtocol.status, statusJSON()]))
            case BusProtocol.ping: try socket.send(frames: reply.frames([BusProtocol.pong, BusProtocol.encode(state.head)]))
            default: try refuse(.unknownCommand, "replay takes REPLAY, STATUS or PING", reply: reply, socket: socket)
            }
        } catch  where error.isHostUnreachable || error.isWouldBlock {
            // The client went away or stopped reading mid-batch: drop the rest; it will ask again.
            logger.debug("replay client gone or not reading; batch abandoned")
        }
    }

    private func replay(_ body: [[UInt8]], reply: ReplyAddress, socket: ZMQSocket, reader: JournalReader) throws(ZMQError) {
        guard body.count >= 3, let from = BusProtocol.decodeInteger(body[1]), let requested = BusProtocol.decodeInteger(body[2]) else {
            return try refuse(
                .malformed,
                "REPLAY takes: from (8-byte sequence), limit (8-byte count), then topic prefixes",
                reply: reply,
                socket: socket
            )
        }
        let prefixes = body.count > 3 ? Array(body[3...]) : [[]]
        let limit = Int(min(max(requested, 1), UInt64(configuration.replayMaxBatch)))
        let snapshot = state.snapshot
        let result: (entries: [JournalEntry], lastExamined: UInt64)
        do {
            result = try reader.read(after: from, prefixes: prefixes, limit: limit, scanLimit: max(limit * 10, 10_000))
        } catch {
            return try refuse(.storage, "journal read failed: \(error)", reply: reply, socket: socket)
        }
        for entry in result.entries {
            try socket.send(frames: reply.frames([BusProtocol.event, entry.topic, BusProtocol.encode(entry.sequence), entry.event]))
        }
        metrics.replayed.increment(by: result.entries.count)
        let head = max(snapshot.head, result.lastExamined)
        // When nothing matched up to the head, the client is caught up to the head.
        let next = result.entries.count < limit && result.lastExamined >= snapshot.head ? max(head, from) : result.lastExamined
        try socket.send(
            frames: reply.frames([BusProtocol.end, BusProtocol.encode(next), BusProtocol.encode(head), BusProtocol.encode(snapshot.tail)])
        )
    }

    private func refuse(_ refusal: BusProtocol.Refusal, _ reason: String, reply: ReplyAddress, socket: ZMQSocket) throws(ZMQError) {
        try socket.send(frames: reply.frames([BusProtocol.error, Array(refusal.rawValue.utf8), Array(reason.utf8)]))
    }

    private func statusJSON() -> [UInt8] {
        let snapshot = state.snapshot
        let status = BusStatus(
            head: snapshot.head,
            tail: snapshot.tail,
            journalEvents: snapshot.journalEvents,
            journalBytes: snapshot.journalBytes,
            journalPath: configuration.journalPath,
            durability: configuration.durability.rawValue,
            subscriptions: snapshot.subscriptions,
            subscribers: snapshot.subscribers.values.sorted { $0.name < $1.name }.map {
                BusStatus.Subscriber(
                    name: $0.name,
                    cursor: $0.cursor,
                    behind: snapshot.head > $0.cursor ? snapshot.head - $0.cursor : 0,
                    lagging: $0.lagging,
                    secondsSinceReport: Date().timeIntervalSince($0.lastReport)
                )
            },
            uptimeSeconds: Date().timeIntervalSince(state.startedAt),
            endpoints: .init(ingress: configuration.ingressEndpoint, egress: configuration.egressEndpoint, replay: configuration.replayEndpoint),
            security: "none (development mode)"
        )
        return (try? Array(GridJSON.encoder().encode(status))) ?? Array("{}".utf8)
    }
}
