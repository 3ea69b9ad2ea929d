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
        defer {
            journal.close()
            publishRole()
        }
        while true {
            if ContinuousClock.now >= nextRetention {
                runRetention()
                nextRetention = ContinuousClock.now + .milliseconds(Int(configuration.retentionInterval * 1000))
            }
            let followed = journal.maintain()
            if !followed.isEmpty { _ = toEgress.pushBlocking(followed) }
            publishRole()
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

    /// The node's part in a cluster (always leader on SQLite), for status, health and metrics.
    private func publishRole() {
        metrics.followerBehind.record(Int64(journal.behind))
        let role = journal.role
        guard state.snapshot.role != role else { return }
        state.update { $0.role = role }
        metrics.isLeader.record(role.isLeader ? 1 : 0)
        if case .leader(let epoch) = role { metrics.leaseEpoch.record(Int64(epoch)) }
        metrics.roleChanges.increment()
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
