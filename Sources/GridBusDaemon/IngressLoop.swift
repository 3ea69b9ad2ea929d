import CoreMetrics
import GridSchema
import GridSecurity
import Logging
import ZeroMQ

/// An answer to one publish, produced by the journal thread and sent by the ingress thread
/// (which alone may touch the ROUTER socket).
struct PublishAnswer: Sendable {
    let reply: ReplyAddress
    let token: [UInt8]
    /// `IncomingEvent.group`: consecutive ACKs of one group go back in one message.
    let group: UInt64
    let outcome: AppendOutcome
}

/// The ingress thread: owns the ROUTER, checks each publish in one pass over its bytes and against
/// its sender's access list, hands good ones to the journal in batches and answers every publish
/// with ACK or NACK. A PUB may carry many events: they are checked one by one, and the ACKs of its
/// events go back together (per message, not per event, is most of what ZeroMQ costs).
struct IngressLoop {
    let configuration: BusConfiguration
    let toJournal: BoundedBuffer<[IncomingEvent]>
    let answers: BoundedBuffer<[PublishAnswer]>
    let answersReady: ZMQWakeup
    let metrics: BusMetrics
    let logger: Logger
    let stop: StopFlag
    let access: AccessControl
    var reporter: DenialReporter
    /// The last group number given to a PUB of several events.
    var lastGroup: UInt64 = 0

    mutating func run(socket: ZMQSocket) {
        var poller = ZMQPoller()
        poller.add(socket)
        let wakeIndex = poller.add(fileDescriptor: answersReady.fileDescriptor)
        var inFlight = 0
        do {
            while !stop.isSet {
                try poller.poll(timeoutMilliseconds: 100)
                if poller.events(at: wakeIndex).contains(.readable) { answersReady.drain() }
                inFlight -= try sendAnswers(socket: socket)
                var batch: [IncomingEvent] = []
                var received = 0
                // Read once per batch: a reload applies from the next batch on.
                let policy = access.enforces ? access.policy : nil
                while received < configuration.maxBatch, let message = try socket.receiveMessage(dontWait: true, readUserID: policy != nil) {
                    received += try accept(message, policy: policy, socket: socket, into: &batch)
                }
                if received > 0 { metrics.received.increment(by: received) }
                guard !batch.isEmpty else { continue }
                if inFlight + batch.count <= configuration.maxPendingEvents, toJournal.tryPush(batch) {
                    inFlight += batch.count
                } else {
                    for event in batch {
                        try refuse(.overloaded, "the journal is behind; retry later", to: event.reply, token: event.token, socket: socket)
                    }
                }
            }
            // Drain: answer everything already handed to the journal before closing.
            let deadline = ContinuousClock.now + .seconds(10)
            while inFlight > 0, ContinuousClock.now < deadline {
                if let batch = answers.popBlocking(timeout: 0.1) {
                    try send(batch, socket: socket)
                    inFlight -= batch.count
                }
            }
        } catch {
            if !error.isContextTerminated { logger.error("ingress loop stopped", metadata: ["error": "\(error)"]) }
        }
    }

    /// Sends the answers the journal produced; returns how many publishes they settle.
    private func sendAnswers(socket: ZMQSocket) throws(ZMQError) -> Int {
        var settled = 0
        for batch in answers.popAvailable() {
            try send(batch, socket: socket)
            settled += batch.count
        }
        return settled
    }

    private func send(_ batch: [PublishAnswer], socket: ZMQSocket) throws(ZMQError) {
        var acked = 0
        var duplicates = 0
        var index = batch.startIndex
        while index < batch.endIndex {
            let answer = batch[index]
            guard answer.outcome.acknowledgedSequence != nil else {
                switch answer.outcome {
                case .failed(let reason): try refuse(.storage, reason, to: answer.reply, token: answer.token, socket: socket)
                // The reason is the leader's ingress endpoint alone, for a client to connect to (docs/protocol.md).
                case .notLeader(let leader): try refuse(.notLeader, leader ?? "", to: answer.reply, token: answer.token, socket: socket)
                case .appended, .duplicate: break
                }
                index += 1
                continue
            }
            // One ACK message for this answer and the ACKs of its group that follow it. Frame by
            // frame: no arrays built per answer on the hot path.
            var end = index + 1
            while answer.group != 0, end < batch.endIndex, batch[end].group == answer.group, batch[end].outcome.acknowledgedSequence != nil {
                end += 1
            }
            try answer.reply.sendEnvelope(on: socket)
            try socket.send(BusProtocol.ack, more: true)
            for settled in index..<end {
                if case .duplicate = batch[settled].outcome { duplicates += 1 }
                try socket.send(batch[settled].token, more: true)
                try socket.send(bigEndian: batch[settled].outcome.acknowledgedSequence!, more: settled < end - 1)
            }
            acked += end - index
            index = end
        }
        if acked > 0 { metrics.acked.increment(by: acked) }
        if duplicates > 0 { metrics.duplicates.increment(by: duplicates) }
    }

    /// Checks one request, adds the events to journal to `batch` and answers the rest itself.
    /// With a policy, the sender's identity (the ZAP handler's `User-Id`) is checked on every message,
    /// so a key revoked by a reload stops publishing even on a connection opened before.
    /// - Returns: how many publishes the request made (what `ingress.max-batch` counts).
    private mutating func accept(
        _ message: ZMQMessage,
        policy: AccessPolicy?,
        socket: ZMQSocket,
        into batch: inout [IncomingEvent]
    ) throws(ZMQError) -> Int {
        let frames = message.frames
        guard frames.count >= 2 else { return 1 }  // a ROUTER always prefixes the routing id; nothing to answer
        let delimited = frames.count >= 3 && frames[1].isEmpty
        let reply = ReplyAddress(routingID: frames[0], delimited: delimited)
        let body = frames[(delimited ? 2 : 1)...]
        let command = body.first!
        // Token and event frames alternate after the command.
        let pairs = body.dropFirst()
        let eventCount = max(pairs.count / 2, 1)
        func tokens() -> [[UInt8]] { pairs.isEmpty ? [[]] : stride(from: pairs.startIndex, to: pairs.endIndex, by: 2).map { pairs[$0] } }
        var identity: Identity?
        if let policy {
            guard let name = message.userID, let found = policy.identity(named: name) else {
                reporter.denied(identity: message.userID ?? "unknown", action: .publish, "identity no longer admitted")
                for token in tokens() {
                    try refuse(.forbidden, "identity '\(message.userID ?? "")' is not admitted (revoked?)", to: reply, token: token, socket: socket)
                }
                return eventCount
            }
            identity = found
        }
        guard command == BusProtocol.publish else {
            try refuse(.unknownCommand, "ingress takes only PUB", to: reply, token: pairs.first ?? [], socket: socket)
            return 1
        }
        guard !pairs.isEmpty, pairs.count % 2 == 0 else {
            try refuse(
                .malformed,
                "PUB takes pairs of frames, a token and an event each (got \(pairs.count) frames)",
                to: reply,
                token: pairs.first ?? [],
                socket: socket
            )
            return 1
        }
        guard eventCount <= BusProtocol.maximumEventsPerPublish else {
            for token in tokens() {
                try refuse(
                    .malformed,
                    "a PUB carries at most \(BusProtocol.maximumEventsPerPublish) events (got \(eventCount))",
                    to: reply,
                    token: token,
                    socket: socket
                )
            }
            return eventCount
        }
        var group: UInt64 = 0
        if eventCount > 1 {
            lastGroup += 1
            group = lastGroup
        }
        for index in stride(from: pairs.startIndex, to: pairs.endIndex, by: 2) {
            if let event = try accept(event: pairs[index + 1], token: pairs[index], reply: reply, group: group, identity: identity, socket: socket) {
                batch.append(event)
            }
        }
        return eventCount
    }

    /// Checks one event of a PUB; returns it to journal, or answers it and returns nil.
    private mutating func accept(
        event bytes: [UInt8],
        token: [UInt8],
        reply: ReplyAddress,
        group: UInt64,
        identity: Identity?,
        socket: ZMQSocket
    ) throws(ZMQError) -> IncomingEvent? {
        guard token.count <= 255 else {
            try refuse(.malformed, "the token frame is longer than 255 bytes", to: reply, token: [], socket: socket)
            return nil
        }
        guard bytes.count <= configuration.maxEventSize else {
            try refuse(
                .tooLarge,
                "event is \(bytes.count) bytes; the limit is \(configuration.maxEventSize)",
                to: reply,
                token: token,
                socket: socket
            )
            return nil
        }
        do {
            let envelope = try EnvelopeScanner.scan(bytes)
            guard !envelope.type.isReservedForBus else {
                try refuse(.invalid, "attribute 'type': \(envelope.type.rawValue) is sent by the bus only", to: reply, token: token, socket: socket)
                return nil
            }
            if let identity {
                let topic = envelope.topic
                guard identity.mayPublish(topic: topic.bytes) else {
                    reporter.denied(identity: identity.name, action: .publish, topic.description)
                    try refuse(.forbidden, "identity '\(identity.name)' may not publish \(topic)", to: reply, token: token, socket: socket)
                    return nil
                }
            }
            return IncomingEvent(envelope: envelope, bytes: bytes, reply: reply, token: token, group: group)
        } catch let error as EnvelopeError {
            try refuse(BusProtocol.Refusal(error.code), error.description, to: reply, token: token, socket: socket)
            return nil
        } catch {
            throw error as! ZMQError
        }
    }

    private func refuse(_ refusal: BusProtocol.Refusal, _ reason: String, to reply: ReplyAddress, token: [UInt8], socket: ZMQSocket) throws(ZMQError)
    {
        metrics.nacked[refusal]?.increment()
        logger.debug("publish refused", metadata: ["nack.code": "\(refusal.rawValue)", "nack.reason": "\(reason)"])
        try socket.send(frames: reply.frames([BusProtocol.nack, token, Array(refusal.rawValue.utf8), Array(reason.utf8)]))
    }
}
