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
    let outcome: AppendOutcome
}

/// The ingress thread: owns the ROUTER, checks each publish in one pass over its bytes and against
/// its sender's access list, hands good ones to the journal in batches and answers every publish
/// with ACK or NACK.
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
                    received += 1
                    if let event = try accept(message, policy: policy, socket: socket) { batch.append(event) }
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
        for answer in batch {
            switch answer.outcome {
            case .appended(let sequence), .duplicate(let sequence):
                if case .duplicate = answer.outcome { duplicates += 1 }
                acked += 1
                // Frame by frame: no arrays built per answer on the hot path.
                try answer.reply.sendEnvelope(on: socket)
                try socket.send(BusProtocol.ack, more: true)
                try socket.send(answer.token, more: true)
                try socket.send(bigEndian: sequence)
            case .failed(let reason):
                try refuse(.storage, reason, to: answer.reply, token: answer.token, socket: socket)
            }
        }
        if acked > 0 { metrics.acked.increment(by: acked) }
        if duplicates > 0 { metrics.duplicates.increment(by: duplicates) }
    }

    /// Checks one request; returns the event to journal, or answers the request itself and returns nil.
    /// With a policy, the sender's identity (the ZAP handler's `User-Id`) is checked on every message,
    /// so a key revoked by a reload stops publishing even on a connection opened before.
    private mutating func accept(_ message: ZMQMessage, policy: AccessPolicy?, socket: ZMQSocket) throws(ZMQError) -> IncomingEvent? {
        let frames = message.frames
        guard frames.count >= 2 else { return nil }  // a ROUTER always prefixes the routing id; nothing to answer
        let delimited = frames.count >= 3 && frames[1].isEmpty
        let reply = ReplyAddress(routingID: frames[0], delimited: delimited)
        let body = frames[(delimited ? 2 : 1)...]
        let command = body.first!
        let token = body.count >= 2 ? body[body.startIndex + 1] : []
        var identity: Identity?
        if let policy {
            guard let name = message.userID, let found = policy.identity(named: name) else {
                reporter.denied(identity: message.userID ?? "unknown", action: .publish, "identity no longer admitted")
                try refuse(.forbidden, "identity '\(message.userID ?? "")' is not admitted (revoked?)", to: reply, token: token, socket: socket)
                return nil
            }
            identity = found
        }
        guard command == BusProtocol.publish else {
            try refuse(.unknownCommand, "ingress takes only PUB", to: reply, token: token, socket: socket)
            return nil
        }
        guard body.count == 3 else {
            try refuse(.malformed, "PUB takes exactly two frames: token and event (got \(body.count - 1))", to: reply, token: token, socket: socket)
            return nil
        }
        guard token.count <= 255 else {
            try refuse(.malformed, "the token frame is longer than 255 bytes", to: reply, token: [], socket: socket)
            return nil
        }
        let bytes = body[body.startIndex + 2]
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
            return IncomingEvent(envelope: envelope, bytes: bytes, reply: reply, token: token)
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
