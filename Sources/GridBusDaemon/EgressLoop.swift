import CoreMetrics
import Foundation
import GridJSON
import GridSchema
import GridSecurity
import Logging
import ZeroMQ

/// The egress thread: owns the XPUB socket, fans out every journaled event as
/// `topic · sequence · event` (and on the chains it matches, ``EgressChains``), sends
/// `bus.heartbeat` with the head sequence, and watches the cursor reports of subscribers built on
/// the worker runtime to find the ones falling behind.
///
/// Subscriptions are vetted (XPUB_MANUAL): a prefix outside the subscriber's access list is not
/// applied, so it delivers nothing, and the denial is counted and logged.
///
/// Memory stays bounded: each subscriber's queue holds at most `egress.high-water-mark`
/// messages, and a subscriber that stops reading misses events beyond that instead of growing
/// the daemon. It notices the gap from the sequence frames (or the next heartbeat) and fills it
/// through replay.
struct EgressLoop {
    let configuration: BusConfiguration
    let fromJournal: BoundedBuffer<[JournalEntry]>
    let eventsReady: ZMQWakeup
    let state: BusState
    let metrics: BusMetrics
    let logger: Logger
    /// Set once the journal has stopped: send what is queued, then return.
    let stop: StopFlag
    let access: AccessControl
    var reporter: DenialReporter
    let bootID = String(UInt32.random(in: .min ... .max), radix: 36)

    /// - Parameter reopen: closes the socket and binds a fresh one at the same endpoint (see ``AccessControl/revocations``).
    mutating func run(socket initial: ZMQSocket, reopen: (ZMQSocket) throws(ZMQError) -> ZMQSocket) {
        var socket = initial
        var poller = ZMQPoller()
        poller.add(socket)
        let wakeIndex = poller.add(fileDescriptor: eventsReady.fileDescriptor)
        let interval = Duration.milliseconds(Int(configuration.heartbeatInterval * 1000))
        var nextHeartbeat = ContinuousClock.now
        var heartbeatCount: UInt64 = 0
        var subscriptions: [[UInt8]: Int] = [:]
        var chains = EgressChains()
        var revocations = access.revocations
        // The heartbeat carries the last sequence sent here, not the journal's head: a subscriber
        // compares it with what it received, and events journaled but not yet sent are not missing.
        var lastSent = state.head
        do {
            while true {
                let wait = max(0, (nextHeartbeat - ContinuousClock.now).milliseconds)
                try poller.poll(timeoutMilliseconds: stop.isSet ? 0 : wait)
                if poller.events(at: wakeIndex).contains(.readable) { eventsReady.drain() }
                if access.revocations != revocations {
                    // A reload took a key or a prefix away. Subscriptions live in libzmq per connection and
                    // cannot be withdrawn one by one, so every subscriber reconnects through the ZAP handler
                    // and the vetting again; workers fill the moment's gap through replay.
                    revocations = access.revocations
                    socket = try reopen(socket)
                    poller = ZMQPoller()
                    poller.add(socket)
                    _ = poller.add(fileDescriptor: eventsReady.fileDescriptor)
                    subscriptions = [:]
                    chains.removeAll()
                    logger.notice("access narrowed by a reload: egress reopened; subscribers reconnect and are vetted again")
                }
                let policy = access.enforces ? access.policy : nil
                while let message = try socket.receiveMessage(dontWait: true, readUserID: policy != nil) {
                    try handleUpstream(message, policy: policy, socket: socket, subscriptions: &subscriptions, chains: &chains, lastSent: lastSent)
                }
                var sent = 0
                for entries in fromJournal.popAvailable() {
                    for entry in entries {
                        try socket.send(entry.topic, more: true)
                        try socket.send(bigEndian: entry.sequence, more: true)
                        try socket.send(entry.event)
                        try chains.advance(topic: entry.topic, sequence: entry.sequence) { (key, previous) throws(ZMQError) in
                            try socket.send(key, more: true)
                            try socket.send(entry.topic, more: true)
                            try socket.send(bigEndian: entry.sequence, more: true)
                            try socket.send(bigEndian: previous, more: true)
                            try socket.send(entry.event)
                        }
                    }
                    lastSent = entries.last?.sequence ?? lastSent
                    sent += entries.count
                }
                if sent > 0 { metrics.fannedOut.increment(by: sent) }
                if stop.isSet && fromJournal.isEmpty { break }
                if ContinuousClock.now >= nextHeartbeat {
                    // A node cut off from PostgreSQL does not know the head: it keeps quiet rather than
                    // tell subscribers they are current.
                    if !state.snapshot.role.isUnavailable {
                        heartbeatCount += 1
                        try sendHeartbeat(socket: socket, count: heartbeatCount, head: lastSent)
                    }
                    checkLag()
                    nextHeartbeat = ContinuousClock.now + interval
                }
            }
        } catch {
            if !error.isContextTerminated { logger.error("egress loop stopped", metadata: ["error": "\(error)"]) }
        }
    }

    private func sendHeartbeat(socket: ZMQSocket, count: UInt64, head: UInt64) throws(ZMQError) {
        let heartbeat = TypedEvent(
            id: "heartbeat-\(bootID)-\(count)",
            source: "gridbusd",
            payload: BusHeartbeat(head: head, tail: state.snapshot.tail)
        )
        guard let event = try? heartbeat.jsonBytes() else { return }
        try socket.send(frames: [Topic(type: .busHeartbeat, grid: nil).bytes, BusProtocol.encode(head), event])
        metrics.heartbeats.increment()
    }

    /// Subscriptions arrive as `\x01prefix` / `\x00prefix`; cursor reports as `\x02{json}`.
    /// In manual mode a subscription takes effect only when applied here, right after it was read
    /// (libzmq applies it to the peer that sent the last message).
    private mutating func handleUpstream(
        _ message: ZMQMessage,
        policy: AccessPolicy?,
        socket: ZMQSocket,
        subscriptions: inout [[UInt8]: Int],
        chains: inout EgressChains,
        lastSent: UInt64
    ) throws(ZMQError) {
        let frame = message.frames[0]
        guard let marker = frame.first else { return }
        switch marker {
        case 1:
            let prefix = Array(frame.dropFirst())
            var owner: String?
            if let policy {
                let identity = message.userID.flatMap { policy.identity(named: $0) }
                owner = message.userID
                guard let identity, identity.maySubscribe(prefix: prefix) else {
                    let shown = prefix.isEmpty ? "every topic (no prefix)" : "prefix '\(String(decoding: prefix, as: UTF8.self))'"
                    reporter.denied(identity: message.userID ?? "unknown", action: .subscribe, shown)
                    return
                }
            }
            // Counted as applied: when a peer goes, libzmq withdraws what was applied, one by one.
            for applied in EgressChains.applied(forRequested: prefix) {
                // Fails only when the peer is already gone (libzmq has no pipe to apply it to).
                guard (try? socket.subscribe(applied)) != nil else { return }
                subscriptions[applied, default: 0] += 1
                // Tried on every subscription to a key, not only the first: one refused for whoever
                // asked first (an identity at its share) is kept when another identity asks.
                switch chains.register(applied, lastSent: lastSent, owner: owner) {
                case .kept, .notAKey:
                    break
                case .full:
                    logger.warning(
                        "too many chains: this one is not kept, and its subscribers catch up through replay",
                        metadata: ["chains": "\(EgressChains.limit)", "chain": "\(String(decoding: applied, as: UTF8.self).dropLast())"]
                    )
                case .identityFull:
                    logger.warning(
                        "this identity keeps too many chains: this one is not kept, and its subscribers catch up through replay",
                        metadata: [
                            "identity": "\(owner ?? "")", "chains": "\(EgressChains.limitPerIdentity)",
                            "chain": "\(String(decoding: applied, as: UTF8.self).dropLast())",
                        ]
                    )
                }
            }
        case 0:
            for applied in EgressChains.applied(forRequested: Array(frame.dropFirst())) {
                // Only prefixes that were applied are counted, and libzmq ignores removing one it never applied.
                guard let count = subscriptions[applied] else { continue }
                try? socket.unsubscribe(applied)
                subscriptions[applied] = count > 1 ? count - 1 : nil
                if count == 1 { chains.remove(applied) }
            }
        case BusProtocol.cursorReportMarker:
            guard let report = CursorReport(frame: frame), report.subscriber.utf8.count <= 128 else {
                logger.debug("ignored a malformed cursor report")
                return
            }
            if report.closing == true {
                state.update { $0.subscribers[report.subscriber] = nil }
                return
            }
            state.update { snapshot in
                let lagging = snapshot.subscribers[report.subscriber]?.lagging ?? false
                snapshot.subscribers[report.subscriber] = .init(name: report.subscriber, cursor: report.cursor, lastReport: Date(), lagging: lagging)
            }
        default:
            logger.debug("ignored an unknown upstream message on egress")
        }
        let count = subscriptions.count
        state.update { $0.subscriptions = count }
        metrics.subscriptions.record(count)
        metrics.chains.record(chains.count)
    }

    /// A reporting subscriber is lagging when it is more than `egress.lag-threshold` events behind,
    /// or has not reported for five heartbeats; reports older than a minute are forgotten.
    private func checkLag() {
        let now = Date()
        let stale = configuration.heartbeatInterval * 5
        var newlyLagging: [(String, UInt64)] = []
        var recovered: [String] = []
        var laggingCount = 0
        state.update { snapshot in
            let head = snapshot.head
            for (name, var report) in snapshot.subscribers {
                let age = now.timeIntervalSince(report.lastReport)
                if age > 60 {
                    snapshot.subscribers[name] = nil
                    continue
                }
                let behind = head > report.cursor ? head - report.cursor : 0
                let lagging = behind > UInt64(configuration.lagThreshold) || age > stale
                if lagging && !report.lagging { newlyLagging.append((name, behind)) }
                if !lagging && report.lagging { recovered.append(name) }
                report.lagging = lagging
                snapshot.subscribers[name] = report
                if lagging { laggingCount += 1 }
            }
        }
        for (name, behind) in newlyLagging {
            metrics.lagEpisodes.increment()
            logger.warning(
                "subscriber is lagging; it will miss live events and must catch up through replay",
                metadata: ["subscriber": "\(name)", "subscriber.behind": "\(behind)"]
            )
        }
        for name in recovered { logger.info("subscriber caught up", metadata: ["subscriber": "\(name)"]) }
        metrics.laggingSubscribers.record(laggingCount)
    }
}

extension Duration {
    var milliseconds: Int { Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000) }
}
