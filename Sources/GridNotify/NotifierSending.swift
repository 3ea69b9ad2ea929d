import Foundation
import GridBusClient
import GridDistrict
import GridJSON
import GridSchema
import GridSecurity
import GridStore
import Logging
import Synchronization

// Sending: claiming what is due, handing it to the channels, recording the outcomes.
extension Notifier {
    struct Batch: Sendable {
        var messageId: String
        var rows: [DeliveryRow]
        var attempt: Int
    }

    /// Sends every message due now: groups the due notices per recipient and channel, holds back
    /// the silenced ones, hands each message to its channel (at most its concurrency at once), then
    /// records the outcomes with their `notification.*` events in one transaction. Returns the
    /// number of messages handed to channels.
    @discardableResult
    public func deliverDue(limit: Int = 1000) async throws -> Int {
        let now = self.now()
        let batches = try await claim(at: now, limit: limit)
        guard !batches.isEmpty else { return 0 }
        let outcomes = await send(batches)
        try await record(outcomes, at: self.now())
        return batches.count
    }

    /// Claims up to `limit` due messages for the pipelined delivery loop (`DeliveryService`), which
    /// sends each on its own and records it as soon as it is answered (`deliver(_:)`), so that a
    /// slow receiver holds up no other message.
    func claimDue(limit: Int) async throws -> [Batch] {
        guard limit > 0 else { return [] }
        return try await claim(at: now(), limit: limit)
    }

    /// Sends one claimed message on its channel and records the outcome. Returns true when it
    /// failed for good: its fallback (the next channel, or the grid chief) is due now.
    @discardableResult
    func deliver(_ batch: Batch) async throws -> Bool {
        let outcome: DeliveryOutcome
        if let channel = channels[batch.rows[0].channel] {
            outcome = await channel.deliver(envelope(batch, channel: channel))
        } else {
            outcome = .failed("no channel '\(batch.rows[0].channel)' any more")
        }
        return try await record([(batch, outcome)], at: now())
    }

    /// Marks the due notices `sending`, grouped into messages (a message keeps its id and its
    /// notices across retries and restarts).
    func claim(at now: Date, limit: Int) async throws -> [Batch] {
        try await runtime.write { [self] connection, _ in try claim(at: now, limit: limit, connection: connection) }
    }

    /// The claim, inside a transaction whose commit is synced before any of it is sent.
    func claim(at now: Date, limit: Int, connection: any StoreConnection) throws -> [Batch] {
        let nowMs = now.millisecondsSince1970
        let silences = try NotifierStore.silences(activeAt: nowMs, on: connection)
        let perMessage = NotifierStore.noticesPerMessage
        var silenced: [(row: DeliveryRow, by: Silence)] = []
        var order: [String] = []
        var groups: [String: [DeliveryRow]] = [:]
        // In the order they fell due, until `limit` messages are made: a member with many notices
        // due (reminders after an outage) gets one message of them, and the claim still fills its room.
        try NotifierStore.due(at: nowMs, limit: limit * perMessage, on: connection) { row in
            if let silence = silences.first(where: { $0.matches(row) }) {
                silenced.append((row, silence))
                return true
            }
            let group = row.messageId ?? "new|\(row.recipient.id)|\(row.channel)"
            if groups[group] == nil {
                guard order.count < limit else { return false }
                order.append(group)
            }
            if groups[group, default: []].count < perMessage { groups[group, default: []].append(row) }
            return true
        }
        for (row, silence) in silenced {
            try NotifierStore.update([row.id], status: .silenced, detail: "silence \(silence.id)", doneAt: nowMs, on: connection)
        }
        return try order.map { group in
            var rows = groups[group]!
            // A message tried before goes again whole, under its id: a receiver drops a repeated id,
            // so the second try must not hold less (or more) than the first.
            if let messageId = rows[0].messageId {
                rows = try NotifierStore.retrying(messageId: messageId, on: connection)
            }
            // A new message takes the notices for the same recipient and channel that would fall
            // due within one group wait (as an Alertmanager group does once its first alert is
            // due); notices held for quiet hours stay held.
            if rows[0].messageId == nil {
                let taken = Set(rows.map(\.id))
                let horizon = nowMs + Int64(rules.groupWait * 1000)
                let more = try NotifierStore.waiting(
                    recipient: rows[0].recipient.id,
                    channel: rows[0].channel,
                    dueBy: horizon,
                    limit: perMessage,
                    on: connection
                )
                rows += more.filter { row in !taken.contains(row.id) && !silences.contains { $0.matches(row) } }.prefix(perMessage - rows.count)
            }
            let messageId = rows[0].messageId ?? "m-" + rows[0].notificationId.dropFirst(2)
            let attempt = (rows.map(\.attempts).max() ?? 0) + 1
            try NotifierStore.update(rows.map(\.id), status: .sending, attempts: attempt, messageId: messageId, on: connection)
            return Batch(messageId: messageId, rows: rows, attempt: attempt)
        }
    }

    func envelope(_ batch: Batch, channel: any NotificationChannel) -> Envelope {
        let recipient = batch.rows[0].recipient
        let summaries = batch.rows.map { row in
            NoticeSummary(
                id: row.notificationId,
                incidentId: row.incident,
                type: row.type,
                text: Templates.line(type: row.type, facts: row.facts, language: recipient.language),
                facts: row.facts
            )
        }
        let message = Templates.message(lines: summaries.map(\.text), style: channel.style, language: recipient.language)
        return Envelope(
            messageId: batch.messageId,
            channel: channel.name,
            recipient: recipient,
            address: recipient.address(for: channel.contact) ?? "",
            subject: message.subject,
            text: message.text,
            notifications: summaries,
            attempt: batch.attempt
        )
    }

    /// Every channel works through its messages with its own concurrency; channels run side by side.
    func send(_ batches: [Batch]) async -> [(Batch, DeliveryOutcome)] {
        let byChannel = Dictionary(grouping: batches) { $0.rows[0].channel }
        return await withTaskGroup(of: [(Batch, DeliveryOutcome)].self) { group in
            for (name, batches) in byChannel {
                guard let channel = channels[name] else {
                    group.addTask { batches.map { ($0, DeliveryOutcome.failed("no channel '\(name)' any more")) } }
                    continue
                }
                group.addTask { [self] in
                    await withTaskGroup(of: (Batch, DeliveryOutcome).self) { sends in
                        var results: [(Batch, DeliveryOutcome)] = []
                        var next = batches.makeIterator()
                        for _ in 0..<max(1, channel.concurrency) {
                            guard let batch = next.next() else { break }
                            sends.addTask { (batch, await channel.deliver(self.envelope(batch, channel: channel))) }
                        }
                        while let result = await sends.next() {
                            results.append(result)
                            if let batch = next.next() { sends.addTask { (batch, await channel.deliver(self.envelope(batch, channel: channel))) } }
                        }
                        return results
                    }
                }
            }
            var all: [(Batch, DeliveryOutcome)] = []
            for await results in group { all += results }
            return all
        }
    }

    /// Returns true when a message failed for good (its fallback is due now).
    @discardableResult
    func record(_ outcomes: [(Batch, DeliveryOutcome)], at now: Date) async throws -> Bool {
        let nowMs = now.millisecondsSince1970
        return try await runtime.write { [self] connection, outbox in
            var failedForGood = false
            for (batch, outcome) in outcomes {
                let ids = batch.rows.map(\.id)
                switch outcome {
                case .delivered(let providerId):
                    try NotifierStore.update(ids, status: .sent, providerId: providerId, doneAt: nowMs, on: connection)
                    for row in batch.rows {
                        try outbox.enqueue(
                            TypedEvent(
                                id: "\(row.notificationId)-sent",
                                source: Self.source,
                                payload: NotificationSent(
                                    notificationId: row.notificationId,
                                    incidentId: row.incident,
                                    recipient: row.recipient.id,
                                    channel: row.channel,
                                    attempts: batch.attempt,
                                    latencyMs: Int(max(0, nowMs - row.createdAt))
                                ),
                                subject: row.incident,
                                grid: row.grid,
                                time: now
                            )
                        )
                    }
                case .retry(let reason):
                    let giveUpAt = (batch.rows.map(\.createdAt).min() ?? nowMs) + Int64(rules.retry.deadline * 1000)
                    let next = nowMs + Int64(rules.retry.delay(afterAttempt: batch.attempt, jitter: jitter()) * 1000)
                    if next <= giveUpAt {
                        try NotifierStore.update(ids, status: .retry, dueAt: next, detail: reason, on: connection)
                        logger.info(
                            "delivery will be tried again",
                            metadata: ["message": "\(batch.messageId)", "attempt": "\(batch.attempt)", "reason": "\(reason)"]
                        )
                    } else {
                        try fail(batch, reason: "gave up after \(batch.attempt) attempts: \(reason)", at: now, connection: connection, outbox: outbox)
                        failedForGood = true
                    }
                case .failed(let reason):
                    try fail(batch, reason: reason, at: now, connection: connection, outbox: outbox)
                    failedForGood = true
                }
            }
            return failedForGood
        }
    }

    /// A channel failed for good: `notification.failed`, then the recipient's next channel, and
    /// when there is none, the grid chief.
    func fail(_ batch: Batch, reason: String, at now: Date, connection: any StoreConnection, outbox: OutboxWriter) throws {
        try NotifierStore.update(batch.rows.map(\.id), status: .failed, detail: reason, doneAt: now.millisecondsSince1970, on: connection)
        logger.warning("delivery failed", metadata: ["message": "\(batch.messageId)", "channel": "\(batch.rows[0].channel)", "reason": "\(reason)"])
        for row in batch.rows {
            try publishFailure(row, attempts: batch.attempt, reason: reason, outbox: outbox, at: now)
            let reachable = channelList(row.recipient)
            if let position = reachable.firstIndex(where: { $0.name == row.channel }), position + 1 < reachable.count {
                var next = row
                next.key = "\(row.key)#\(reachable[position + 1].name)"
                next.notificationId = "n-" + String(SHA256.hex(Array(next.key.utf8)).prefix(20))
                next.channelIndex = position + 1
                next.channel = reachable[position + 1].name
                next.status = .pending
                next.dueAt = now.millisecondsSince1970
                next.attempts = 0
                next.messageId = nil
                next.detail = "fallback after \(row.channel) failed"
                _ = try NotifierStore.insert(next, on: connection)
            } else if row.recipient.role != Member.Role.gridChief.rawValue, row.recipient.role != "operator", let grid = row.grid {
                let facts = try row.incident.flatMap { try NotifierStore.incident($0, on: connection) }
                for chief in district.members(of: grid).filter({ $0.role == .gridChief }) {
                    let notice = Notice(
                        type: row.type,
                        state: "fallback:\(row.key)",
                        incidentId: row.incident,
                        facts: facts,
                        grid: row.grid,
                        details: row.facts,
                        urgent: true
                    )
                    try plan(notice, for: recipient(chief), at: now, connection: connection, outbox: outbox)
                }
            }
        }
    }

    func publishFailure(_ row: DeliveryRow, attempts: Int, reason: String, outbox: OutboxWriter, at now: Date) throws {
        try outbox.enqueue(
            TypedEvent(
                id: "\(row.notificationId)-failed",
                source: Self.source,
                payload: NotificationFailed(
                    notificationId: row.notificationId,
                    incidentId: row.incident,
                    recipient: row.recipient.id,
                    channel: row.channel,
                    attempts: max(1, attempts),
                    reason: String(reason.prefix(1000))
                ),
                subject: row.incident,
                grid: row.grid,
                time: now
            )
        )
    }
}
