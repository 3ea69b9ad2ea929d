import CoreMetrics
import Foundation
import GridJSON
import GridSchema
import Logging
import ZeroMQ

/// The journal thread: takes every batch the ingress has queued, writes them in one transaction
/// (group commit), then hands answers back to the ingress and written events to the egress.
struct JournalLoop {
    let configuration: BusConfiguration
    let journal: any JournalStorage
    let fromIngress: BoundedBuffer<[IncomingEvent]>
    let answers: BoundedBuffer<[PublishAnswer]>
    let toEgress: BoundedBuffer<[JournalEntry]>
    let state: BusState
    let metrics: BusMetrics
    let logger: Logger
    /// Set once the ingress has stopped: finish what is queued, then return.
    let stop: StopFlag

    func run() {
        var nextRetention = ContinuousClock.now
        publishExtent()
        // Published at the start, so that a single SQLite node shows itself leading from the first
        // scrape, and then whenever it changes: kept here, not read back from the shared state,
        // because this runs between every two batches.
        var published = publishRole(previous: nil)
        defer {
            journal.close()
            _ = publishRole(previous: published)
        }
        while true {
            if ContinuousClock.now >= nextRetention {
                runRetention()
                nextRetention = ContinuousClock.now + .milliseconds(Int(configuration.retentionInterval * 1000))
            }
            let followed = journal.maintain()
            if !followed.isEmpty { _ = toEgress.pushBlocking(followed) }
            published = publishRole(previous: published)
            guard let first = fromIngress.popBlocking(timeout: journal.idleWait) else {
                if !followed.isEmpty { publishExtent() }
                if stop.isSet { break } else { continue }
            }
            var events = first
            let more = fromIngress.popAvailable()
            if !more.isEmpty {
                events.reserveCapacity(more.reduce(first.count) { $0 + $1.count })
                for batch in more { events.append(contentsOf: batch) }
            }
            let started = ContinuousClock.now
            let (outcomes, written) = journal.append(events, receivedAt: Date().millisecondsSince1970)
            metrics.commitDuration.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
            metrics.commitBatchSize.record(events.count)
            if written.isEmpty, case .failed(let reason)? = outcomes.first {
                logger.error(
                    "journal write failed; the batch was NACKed",
                    metadata: ["journal.error": "\(reason)", "batch.events": "\(events.count)"]
                )
                state.update { $0.lastJournalError = reason }
            }
            // By index: a whole `IncomingEvent` copied is a retain of each of its buffers.
            _ = answers.pushBlocking(
                events.indices.map { PublishAnswer(reply: events[$0].reply, token: events[$0].token, group: events[$0].group, outcome: outcomes[$0]) }
            )
            if !written.isEmpty {
                // Bounded: if the egress ever falls behind, the journal waits and the ingress NACKs "overloaded".
                _ = toEgress.pushBlocking(written)
                publishExtent()
            }
        }
    }

    private func runRetention() {
        do {
            let removed = try journal.enforceRetention(
                now: Date(),
                maxAge: configuration.retentionMaxAge,
                maxBytes: configuration.retentionMaxBytes
            )
            if removed > 0 {
                metrics.retentionRemoved.increment(by: removed)
                logger.info("retention removed old events", metadata: ["journal.removed": "\(removed)", "journal.tail": "\(journal.tail)"])
                publishExtent()
            }
        } catch {
            logger.error("retention failed", metadata: ["error": "\(error)"])
        }
    }

    /// The node's part in a cluster (always leader on SQLite), for status, health and metrics,
    /// when it differs from what was published before (`previous`; nil at the start).
    /// - Returns: what is published now.
    private func publishRole(previous: (role: JournalRole, behind: UInt64)?) -> (role: JournalRole, behind: UInt64) {
        let current = (role: journal.role, behind: journal.behind)
        if current.behind != previous?.behind { metrics.followerBehind.record(Int64(current.behind)) }
        guard current.role != previous?.role else { return current }
        state.update { $0.role = current.role }
        metrics.isLeader.record(current.role.isLeader ? 1 : 0)
        if case .leader(let epoch) = current.role { metrics.leaseEpoch.record(Int64(epoch)) }
        if previous != nil { metrics.roleChanges.increment() }
        return current
    }

    private func publishExtent() {
        let head = journal.head
        let tail = journal.tail
        let count = journal.eventCount
        let bytes = journal.eventBytes
        state.update {
            $0.head = head
            $0.tail = tail
            $0.journalEvents = count
            $0.journalBytes = bytes
        }
        metrics.headSequence.record(Int64(head))
        metrics.tailSequence.record(Int64(tail))
        metrics.journalEvents.record(Int64(count))
        metrics.journalBytes.record(bytes)
        metrics.journalKeysBytes.record(journal.keysMemoryBytes)
    }
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
