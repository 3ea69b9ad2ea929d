import CoreMetrics
import Foundation
import GridJSON
import GridPlugins
import GridSchema
import GridSecurity
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
    let security: BusSecurity
    let plugins: PluginBoard?
    var reporter: DenialReporter

    mutating func run(socket: ZMQSocket, reader: any JournalReading) {
        var poller = ZMQPoller()
        poller.add(socket)
        do {
            while !stop.isSet {
                try poller.poll(timeoutMilliseconds: 100)
                var handled = 0
                let policy = security.access.enforces ? security.access.policy : nil
                while handled < 64, let message = try socket.receiveMessage(dontWait: true, readUserID: policy != nil) {
                    handled += 1
                    try handle(message, policy: policy, socket: socket, reader: reader)
                }
            }
        } catch {
            if !error.isContextTerminated { logger.error("replay loop stopped", metadata: ["error": "\(error)"]) }
        }
    }

    private mutating func handle(_ message: ZMQMessage, policy: AccessPolicy?, socket: ZMQSocket, reader: any JournalReading) throws(ZMQError) {
        let frames = message.frames
        guard frames.count >= 2 else { return }
        let delimited = frames.count >= 3 && frames[1].isEmpty
        let reply = ReplyAddress(routingID: frames[0], delimited: delimited)
        let body = Array(frames[(delimited ? 2 : 1)...])
        do {
            var identity: Identity?
            if let policy {
                guard let name = message.userID, let found = policy.identity(named: name) else {
                    reporter.denied(identity: message.userID ?? "unknown", action: .replay, "identity no longer admitted")
                    return try refuse(.forbidden, "identity '\(message.userID ?? "")' is not admitted (revoked?)", reply: reply, socket: socket)
                }
                identity = found
            }
            switch body[0] {
            case BusProtocol.replay: try replay(body, identity: identity, reply: reply, socket: socket, reader: reader)
            case BusProtocol.status: try socket.send(frames: reply.frames([BusProtocol.status, statusJSON()]))
            case BusProtocol.ping: try socket.send(frames: reply.frames([BusProtocol.pong, BusProtocol.encode(state.head)]))
            default: try refuse(.unknownCommand, "replay takes REPLAY, STATUS or PING", reply: reply, socket: socket)
            }
        } catch  where error.isHostUnreachable || error.isWouldBlock {
            // The client went away or stopped reading mid-batch: drop the rest; it will ask again.
            logger.debug("replay client gone or not reading; batch abandoned")
        }
    }

    private mutating func replay(
        _ body: [[UInt8]],
        identity: Identity?,
        reply: ReplyAddress,
        socket: ZMQSocket,
        reader: any JournalReading
    ) throws(ZMQError) {
        guard body.count >= 3, let from = BusProtocol.decodeInteger(body[1]), let requested = BusProtocol.decodeInteger(body[2]) else {
            return try refuse(
                .malformed,
                "REPLAY takes: from (8-byte sequence), limit (8-byte count), then topic prefixes",
                reply: reply,
                socket: socket
            )
        }
        let prefixes = body.count > 3 ? Array(body[3...]) : [[]]
        if let identity, let outside = prefixes.first(where: { !identity.maySubscribe(prefix: $0) }) {
            let shown = outside.isEmpty ? "every topic (no prefix)" : "prefix '\(String(decoding: outside, as: UTF8.self))'"
            reporter.denied(identity: identity.name, action: .replay, shown)
            return try refuse(.forbidden, "identity '\(identity.name)' may not read \(shown)", reply: reply, socket: socket)
        }
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

    private func cluster(_ snapshot: BusState.Snapshot) -> BusStatus.Cluster {
        let (leader, epoch, problem): (String?, UInt64?, String?) =
            switch snapshot.role {
            case .leader(let epoch): (snapshot.advertise, epoch, nil)
            case .follower(let leader): (leader, nil, nil)
            case .unavailable(let problem): (nil, nil, problem)
            }
        return BusStatus.Cluster(
            backend: configuration.journalBackend.rawValue,
            role: snapshot.role.name,
            leader: leader,
            epoch: epoch,
            advertise: snapshot.advertise,
            problem: problem
        )
    }

    private func statusJSON() -> [UInt8] {
        let snapshot = state.snapshot
        let status = BusStatus(
            head: snapshot.head,
            tail: snapshot.tail,
            journalEvents: snapshot.journalEvents,
            journalBytes: snapshot.journalBytes,
            journalPath: configuration.journalDescription,
            durability: configuration.durabilityDescription,
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
            security: security.statusDescription,
            identities: security.access.policy.identities.keys.sorted(),
            plugins: plugins?.plugins ?? [],
            cluster: cluster(snapshot)
        )
        return (try? JSONTreeEncoder().encode(status)) ?? Array("{}".utf8)
    }
}
