import Foundation
import GridPostgres
import GridSchema
import Logging
import NIOCore
import PostgresNIO

/// Where a PostgreSQL journal lives and how this node takes part in the cluster.
struct PostgresJournalSettings: Sendable {
    var url: PostgresURL
    var password: String?
    /// This node's ingress endpoint as publishers reach it (known once the ingress is bound): a
    /// follower's `not-leader` names the leader's.
    var advertise: @Sendable () -> String
    /// How long a lease lasts unrenewed: a leader that stops renewing is replaced after this.
    var leaseSeconds: Double = 2
    /// Called (on an event loop) when the leader has written: a follower's journal thread stops
    /// waiting and reads.
    var wake: @Sendable () -> Void = {}
}

/// The PostgreSQL journal: a row per event in `gridbus_journal.events`, shared by every gridbusd
/// node whose `journal.url` names the database (``PostgresJournalSchema``).
///
/// One node leads, by the lease row. The leader assigns sequences (its head + 1, so without gaps)
/// and writes a batch in one statement that also checks, in the same transaction, that the lease
/// still carries its epoch (`FOR SHARE` on the lease row): a leader deposed while it was paused
/// writes nothing, because the new leader's `UPDATE` of the lease either waited for that
/// transaction or changed the epoch it checks. A follower reads what the leader wrote, by
/// sequence, for its own egress; every node serves replay from the table.
///
/// After any doubt about a write (a connection lost while committing) the node stops leading and
/// re-reads the head before it writes again; the publisher's retry with the same id then finds the
/// event if it was committed.
final class PostgresJournal: JournalStorage {
    private let settings: PostgresJournalSettings
    private let link: PostgresLink
    private let logger: Logger
    /// Unique to this process: a restarted node is a new holder, with a new epoch.
    private let holder: String
    private(set) var head: UInt64 = 0
    private(set) var tail: UInt64 = 0
    private(set) var eventBytes: Int64 = 0
    private(set) var role: JournalRole = .unavailable("not connected yet") {
        didSet {
            // A follower is woken by the leader's notification; the leader has nothing to hear.
            guard role.isLeader != oldValue.isLeader else { return }
            if role.isLeader { link.unlisten() } else { try? link.listen(PostgresJournalSchema.writtenChannel, notify: settings.wake) }
        }
    }
    private(set) var behind: UInt64 = 0
    private var nextLeaseCheck = ContinuousClock.now
    private var nextExtentRead = ContinuousClock.now
    private let schema = PostgresJournalSchema.schema
    /// The link's connection on which ``head`` was last checked against the table.
    private var headCheckedOn = 0
    /// The epoch of the lease this node last took: after a blip (a lost connection) it takes the
    /// same lease back if nobody else took it meanwhile, without waiting for it to lapse.
    private var heldEpoch: Int64 = -1

    /// PostgreSQL keeps the de-duplication keys in its unique index.
    var keysMemoryBytes: Int { 0 }
    /// A follower reads when the leader's notification wakes it, and at least this often (a
    /// notification sent while its connection was down is not delivered).
    var idleWait: Double { role.isLeader ? 0.2 : 0.1 }

    /// Connects, applies the schema's migrations and reads the extent, as a follower: the journal
    /// thread's first ``maintain()`` takes the lease if nobody holds it.
    /// - Throws: ``PostgresLinkError`` when no host is usable or the schema cannot be applied.
    init(settings: PostgresJournalSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        self.link = PostgresLink(url: settings.url, password: settings.password, logger: logger)
        self.holder = "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UInt32.random(in: 0...UInt32.max))"
        try link.listen(PostgresJournalSchema.writtenChannel, notify: settings.wake)
        try PostgresJournalSchema.migrations.migrate(link)
        // Past the migrations (which may take long on a large table): a statement unanswered for a
        // whole lease means this node can no longer know whether it leads, nor whether it is
        // current; it says so (unavailable) instead of waiting for TCP to give up.
        link.answerTimeout = settings.leaseSeconds
        try readExtent()
        head = try readHead()
        headCheckedOn = link.connections
        role = .follower(leader: nil)
    }

    // MARK: Leading

    /// Renews the lease, or takes it when it has lapsed; a follower reads what the leader wrote.
    func maintain() -> [JournalEntry] {
        var followed: [JournalEntry] = []
        let now = ContinuousClock.now
        if now >= nextLeaseCheck {
            // A leader renews four times a lease; a follower looks more often, so that a lease
            // handed back at a graceful stop is taken at once.
            let quarter = settings.leaseSeconds / 4
            nextLeaseCheck = now + .milliseconds(Int(1000 * (role.isLeader ? quarter : min(quarter, 0.1))))
            do {
                followed = try checkLease()
            } catch {
                stepDown(to: .unavailable("\(PostgresLinkError(error))"))
            }
        }
        if case .follower = role {
            do { followed += try follow() } catch { stepDown(to: .unavailable("\(PostgresLinkError(error))")) }
        }
        // The leader keeps the extent itself as it writes; a follower reads what the leader wrote.
        if now >= nextExtentRead, case .follower = role {
            nextExtentRead = now + .seconds(1)
            try? readExtent()
        }
        return followed
    }

    private func checkLease() throws -> [JournalEntry] {
        let ttl = Int64(settings.leaseSeconds * 1000)
        let epoch = heldEpoch
        // Keeps this holder's lease (same epoch) or takes a lapsed one (next epoch).
        let taken = try link.query(
            """
            UPDATE \(unescaped: schema).lease
            SET epoch = CASE WHEN holder = \(holder) AND epoch = \(epoch) THEN epoch ELSE epoch + 1 END,
                holder = \(holder), advertise = \(settings.advertise()),
                expires_at = now() + \(ttl) * interval '1 millisecond'
            WHERE (holder = \(holder) AND epoch = \(epoch)) OR expires_at < now()
            RETURNING epoch
            """
        )
        if let row = taken.rows.first {
            let newEpoch = UInt64(try row.decode(Int64.self))
            heldEpoch = Int64(newEpoch)
            guard role != .leader(epoch: newEpoch) else { return [] }
            // Before writing: everything the last leader committed, for this node's egress, a page
            // per call (holding the lease meanwhile), so that a long way behind is not read at once.
            let caughtUp = try follow()
            if caughtUp.count == Self.followPage {
                nextLeaseCheck = .now
                return caughtUp
            }
            head = try readHead()
            try readExtent()
            behind = 0
            logger.notice("journal lease taken: this node leads", metadata: ["journal.epoch": "\(newEpoch)", "journal.head": "\(head)"])
            role = .leader(epoch: newEpoch)
            return caughtUp
        }
        let lease = try link.query(
            "SELECT advertise, expires_at > now(), (SELECT COALESCE(MAX(seq), 0) FROM \(unescaped: schema).events) FROM \(unescaped: schema).lease"
        )
        guard let row = lease.rows.first else { throw PostgresLinkError.server(sqlState: "02000", message: "the lease row is missing") }
        let (advertise, live, newest) = try row.decode((String, Bool, Int64).self)
        behind = UInt64(newest) > head ? UInt64(newest) - head : 0
        stepDown(to: .follower(leader: live && !advertise.isEmpty ? advertise : nil))
        return []
    }

    func close() {
        if case .leader(let epoch) = role {
            _ = try? link.query(
                "UPDATE \(unescaped: schema).lease SET expires_at = '-infinity' WHERE holder = \(holder) AND epoch = \(Int64(epoch))"
            )
            logger.notice("journal lease handed back: another node may lead at once", metadata: ["journal.epoch": "\(epoch)"])
        }
        link.unlisten()
        link.close()
        heldEpoch = -1
        role = .follower(leader: nil)
    }

    private func stepDown(to newRole: JournalRole) {
        guard newRole != role else { return }
        if role.isLeader {
            logger.warning("journal lease lost: this node no longer writes", metadata: ["journal.role": "\(newRole.name)"])
        } else if case .unavailable(let reason) = newRole {
            logger.error("PostgreSQL journal unavailable", metadata: ["error": "\(reason)"])
        }
        if case .unavailable = newRole { link.close() }
        role = newRole
    }

    /// After the link connected again (perhaps to a promoted standby), the table's head is the
    /// truth. With a synchronous standby it is the head this node knew; with asynchronous
    /// replication the failover may have lost the last commits, and their sequences will be given
    /// again: said loudly, because subscribers may have seen the lost events.
    private func checkHeadAfterReconnecting() throws {
        try link.connect()
        guard link.connections != headCheckedOn else { return }
        let stored = try readHead()
        if stored < head {
            logger.critical(
                "the journal lost events in a database failover (asynchronous replication?): their sequences will be given again",
                metadata: ["journal.lost.first": "\(stored + 1)", "journal.lost.last": "\(head)"]
            )
            head = stored
        } else if stored > head, role.isLeader {
            // Someone else wrote while this node held the lease: impossible unless the lease row was edited.
            stepDown(to: .follower(leader: nil))
            throw PostgresLinkError.server(sqlState: "GB001", message: "the journal's head moved on while this node led")
        }
        headCheckedOn = link.connections
    }

    /// Events read from the table at a time by a follower.
    static let followPage = 5000

    /// The events after ``head``, a page at a time, advancing it.
    private func follow() throws -> [JournalEntry] {
        try checkHeadAfterReconnecting()
        let rows = try link.query(
            "SELECT seq, topic, event FROM \(unescaped: schema).events WHERE seq > \(Int64(head)) ORDER BY seq LIMIT \(Self.followPage)"
        )
        var entries: [JournalEntry] = []
        for row in rows.rows {
            let (sequence, topic, event) = try row.decode((Int64, ByteBuffer, ByteBuffer).self)
            entries.append(JournalEntry(sequence: sequence, topic: topic, event: event))
        }
        if let last = entries.last { head = last.sequence }
        if tail == 0, let first = entries.first { tail = first.sequence }
        return entries
    }

    private func readHead() throws -> UInt64 {
        UInt64(try link.query("SELECT COALESCE(MAX(seq), 0) FROM \(unescaped: schema).events").rows.first?.decode(Int64.self) ?? 0)
    }

    private func readExtent() throws {
        let rows = try link.query(
            "SELECT (SELECT event_bytes FROM \(unescaped: schema).extent), (SELECT COALESCE(MIN(seq), 0) FROM \(unescaped: schema).events)"
        ).rows
        guard let row = rows.first else { return }
        let (bytes, first) = try row.decode((Int64, Int64).self)
        eventBytes = bytes
        tail = UInt64(first)
    }

    // MARK: Writing

    func append(_ events: [IncomingEvent], receivedAt: Int64) -> (outcomes: [AppendOutcome], written: [JournalEntry]) {
        guard case .leader(let epoch) = role else {
            let leader: String? = if case .follower(let leader) = role { leader } else { nil }
            return (Array(repeating: .notLeader(leader), count: events.count), [])
        }
        do {
            try checkHeadAfterReconnecting()
            // Written as if no event of the batch were journaled yet: a publisher's retry is rare,
            // and the unique key on (source, id) refuses the batch if one was. Then the batch is
            // written again with those answered as duplicates. Looking every batch up first cost
            // the server about a third of its CPU per event (docs/benchmarks.md, (s)).
            var batch = PreparedBatch(events, after: head, journaled: [:])
            var stored: Bool
            do {
                stored = try write(batch, epoch: epoch, receivedAt: receivedAt)
            } catch let refusal as PostgresLinkError where refusal.constraint == PostgresJournalSchema.uniqueEventKey {
                batch = PreparedBatch(events, after: head, journaled: try journaledSequences(of: events))
                stored = try write(batch, epoch: epoch, receivedAt: receivedAt)
            }
            guard stored else {
                // The lease moved on while this node believed it led: nothing was written.
                stepDown(to: .follower(leader: nil))
                nextLeaseCheck = .now
                // Every event of the batch goes to the new leader, duplicates too: it answers them.
                return (Array(repeating: .notLeader(nil), count: events.count), [])
            }
            guard let last = batch.written.last else { return (batch.outcomes, []) }
            head = last.sequence
            if tail == 0 { tail = batch.written[0].sequence }
            eventBytes += batch.bytes
            return (batch.outcomes, batch.written)
        } catch {
            let failure = PostgresLinkError(error)
            if case .server = failure {
                // A sequence already taken: the head this node knew is not the table's. Follow the
                // table to its head before writing again.
                if failure.isUniqueViolation {
                    stepDown(to: .follower(leader: nil))
                    nextLeaseCheck = .now
                }
            } else {
                // A lost connection leaves the commit in doubt: the head is read again before the next write.
                stepDown(to: .unavailable("\(failure)"))
            }
            return (Array(repeating: .failed("journal write failed: \(failure)"), count: events.count), [])
        }
    }

    /// Writes the batch's new rows in one statement, so one transaction: the fence, the rows, the
    /// extent and the followers' wake-up. `false` when the fence held nothing: the lease moved on.
    private func write(_ batch: PreparedBatch, epoch: UInt64, receivedAt: Int64) throws -> Bool {
        guard !batch.written.isEmpty else { return true }
        let result = try link.query(
            """
            WITH \(unescaped: fence(epoch)),
            inserted AS (
                INSERT INTO \(unescaped: schema).events (seq, received_ms, source, id, topic, event)
                SELECT u.seq, \(receivedAt), u.source, u.id, u.topic, u.event
                FROM unnest(\(batch.sequences)::bigint[], \(batch.sources)::text[], \(batch.ids)::text[], \(batch.topics)::bytea[], \(batch.events)::bytea[])
                    AS u(seq, source, id, topic, event)
                WHERE EXISTS (SELECT 1 FROM fence)
                RETURNING 1
            )
            UPDATE \(unescaped: schema).extent SET event_bytes = event_bytes + \(batch.bytes)
            WHERE EXISTS (SELECT 1 FROM fence)
            RETURNING (SELECT COUNT(*) FROM inserted), pg_notify(\(PostgresJournalSchema.writtenChannel), '')::text
            """
        )
        guard let row = result.rows.first else { return false }
        return try row.decode((Int64, String).self).0 == Int64(batch.written.count)
    }

    /// The common table `fence`, one row while the lease still carries `epoch`, locked `FOR SHARE`
    /// until the transaction ends: a write joined to it writes nothing once the lease moved on.
    /// (An integer and the schema's constant name only, so written into the SQL directly.)
    private func fence(_ epoch: UInt64) -> String {
        "fence AS (SELECT epoch FROM \(schema).lease WHERE epoch = \(epoch) FOR SHARE)"
    }

    /// The sequences already journaled for these events' `(source, id)`.
    private func journaledSequences(of events: [IncomingEvent]) throws -> [String: UInt64] {
        let sources = events.map(\.envelope.source)
        let ids = events.map(\.envelope.id)
        let rows = try link.query(
            """
            SELECT e.source, e.id, e.seq FROM \(unescaped: schema).events e
            JOIN unnest(\(sources)::text[], \(ids)::text[]) AS k(source, id) ON e.source = k.source AND e.id = k.id
            """
        )
        var found: [String: UInt64] = [:]
        for row in rows.rows {
            let (source, id, sequence) = try row.decode((String, String, Int64).self)
            found[PreparedBatch.key(source: source, id: id)] = UInt64(sequence)
        }
        return found
    }

    // MARK: Retention

    func enforceRetention(now: Date, maxAge: Double, maxBytes: Int) throws -> Int {
        guard case .leader(let epoch) = role, eventCount > 0 else { return 0 }
        let cutoffSeconds = now.timeIntervalSince1970 - maxAge
        let cutoff = cutoffSeconds.isFinite && cutoffSeconds > 0 ? Int64(cutoffSeconds * 1000) : Int64.min
        // Received times grow with the sequence (one writer at a time), so the old events are a prefix.
        let young = try link.query(
            "SELECT seq FROM \(unescaped: schema).events WHERE seq >= \(Int64(tail)) AND received_ms >= \(cutoff) ORDER BY seq LIMIT 1"
        )
        var newTail = try young.rows.first.map { UInt64(try $0.decode(Int64.self)) } ?? head + 1
        var removedBytes = Int64(
            try link.query(
                "SELECT COALESCE(SUM(octet_length(event)), 0)::bigint FROM \(unescaped: schema).events WHERE seq < \(Int64(newTail))"
            ).rows.first?.decode(Int64.self) ?? 0
        )
        // Then forward, a page at a time, until the rest fits in `maxBytes`.
        while eventBytes - removedBytes > maxBytes, newTail <= head {
            let page = try link.query(
                "SELECT seq, octet_length(event) FROM \(unescaped: schema).events WHERE seq >= \(Int64(newTail)) ORDER BY seq LIMIT 1000"
            )
            if page.rows.isEmpty { break }
            for row in page.rows {
                guard eventBytes - removedBytes > maxBytes else { break }
                let (sequence, length) = try row.decode((Int64, Int32).self)
                removedBytes += Int64(length)
                newTail = UInt64(sequence) + 1
            }
        }
        guard newTail > tail else { return 0 }
        let result = try link.query(
            """
            WITH \(unescaped: fence(epoch)),
            removed AS (
                DELETE FROM \(unescaped: schema).events WHERE seq < \(Int64(newTail)) AND EXISTS (SELECT 1 FROM fence)
                RETURNING octet_length(event) AS bytes
            )
            UPDATE \(unescaped: schema).extent SET event_bytes = event_bytes - (SELECT COALESCE(SUM(bytes), 0) FROM removed)
            WHERE EXISTS (SELECT 1 FROM fence)
            RETURNING event_bytes, (SELECT COUNT(*) FROM removed)
            """
        )
        guard let row = result.rows.first else {
            stepDown(to: .follower(leader: nil))
            return 0
        }
        let (bytes, removed) = try row.decode((Int64, Int64).self)
        eventBytes = bytes
        tail = newTail > head ? 0 : newTail
        return Int(removed)
    }
}

/// The PostgreSQL journal's reading side, for replay, on its own connection.
final class PostgresJournalReader: JournalReading {
    private let link: PostgresLink
    private let schema = PostgresJournalSchema.schema

    init(settings: PostgresJournalSettings, logger: Logger) {
        // Replay reads committed rows; any server of the cluster that has them would do, but a
        // standby may lag, so replay reads where the writes go.
        link = PostgresLink(url: settings.url, password: settings.password, logger: logger)
        // A server the network cut off answers nothing: replay (and the status requests queued
        // behind it on the same thread) gives up after this, far above a page's read.
        link.answerTimeout = max(30, settings.leaseSeconds)
    }

    func read(after sequence: UInt64, prefixes: [[UInt8]], limit: Int, scanLimit: Int) throws -> (entries: [JournalEntry], lastExamined: UInt64) {
        let matchAll = prefixes.contains { $0.isEmpty }
        let after = Int64(clamping: sequence)
        let rows: PostgresQueryResult
        if matchAll {
            rows = try link.query(
                "SELECT seq, topic, event FROM \(unescaped: schema).events WHERE seq > \(after) ORDER BY seq LIMIT \(min(limit, scanLimit))"
            )
        } else {
            // Matching in the server: only the events wanted cross the wire. The last row is the
            // last sequence examined, with no event.
            let wanted = prefixes.map { ByteBuffer(bytes: $0) }
            rows = try link.query(
                """
                WITH scanned AS (
                    SELECT seq, topic FROM \(unescaped: schema).events WHERE seq > \(after) ORDER BY seq LIMIT \(scanLimit)
                ), matched AS (
                    SELECT s.seq FROM scanned s
                    WHERE EXISTS (SELECT 1 FROM unnest(\(wanted)::bytea[]) AS p(prefix) WHERE substring(s.topic FROM 1 FOR length(p.prefix)) = p.prefix)
                    ORDER BY s.seq LIMIT \(limit)
                )
                (SELECT e.seq, e.topic, e.event FROM \(unescaped: schema).events e JOIN matched m ON e.seq = m.seq ORDER BY e.seq)
                UNION ALL
                SELECT MAX(seq), NULL, NULL FROM scanned
                """
            )
        }
        var entries: [JournalEntry] = []
        var lastScanned: UInt64?
        for row in rows.rows {
            let (seq, topic, event) = try row.decode((Int64?, ByteBuffer?, ByteBuffer?).self)
            guard let topic, let event, let seq else {
                lastScanned = seq.map(UInt64.init)
                continue
            }
            entries.append(JournalEntry(sequence: seq, topic: topic, event: event))
        }
        let lastExamined: UInt64
        if matchAll || entries.count == limit {
            lastExamined = entries.last?.sequence ?? sequence
        } else {
            lastExamined = lastScanned ?? sequence
        }
        return (entries, lastExamined)
    }
}

extension JournalEntry {
    /// A row of `gridbus_journal.events` as read by a follower or by replay.
    fileprivate init(sequence: Int64, topic: ByteBuffer, event: ByteBuffer) {
        self.init(sequence: UInt64(sequence), topic: Array(topic.readableBytesView), event: Array(event.readableBytesView))
    }
}

/// A batch as the leader writes it: the sequences given to its new events (after the head, in
/// order, without gaps), each event's answer, and the columns of its rows.
private struct PreparedBatch {
    var outcomes: [AppendOutcome] = []
    var written: [JournalEntry] = []
    var sequences: [Int64] = []
    var sources: [String] = []
    var ids: [String] = []
    var topics: [ByteBuffer] = []
    var events: [ByteBuffer] = []
    var bytes: Int64 = 0

    /// - Parameter journaled: the sequences of the events already journaled, by ``key(source:id:)``.
    init(_ incoming: [IncomingEvent], after head: UInt64, journaled: [String: UInt64]) {
        var inBatch: [String: UInt64] = [:]
        var next = head
        for event in incoming {
            let envelope = event.envelope
            let key = Self.key(source: envelope.source, id: envelope.id)
            if let existing = journaled[key] ?? inBatch[key] {
                outcomes.append(.duplicate(existing))
                continue
            }
            next += 1
            inBatch[key] = next
            var spliced: [UInt8] = []
            spliced.reserveCapacity(EnvelopeScanner.splicedCount(sequence: next, into: event.bytes.count))
            EnvelopeScanner.appendSpliced(sequence: next, into: event.bytes, at: envelope.bodyStart, to: &spliced)
            let topic = envelope.topic.bytes
            sequences.append(Int64(next))
            sources.append(envelope.source)
            ids.append(envelope.id)
            topics.append(ByteBuffer(bytes: topic))
            events.append(ByteBuffer(bytes: spliced))
            bytes += Int64(spliced.count)
            outcomes.append(.appended(next))
            written.append(JournalEntry(sequence: next, topic: topic, event: spliced))
        }
    }

    static func key(source: String, id: String) -> String { source + "\u{0}" + id }
}
