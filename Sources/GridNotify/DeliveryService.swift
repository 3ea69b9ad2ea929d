import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Sends claimed messages, each on its own and recorded as soon as it is answered, so that one slow
/// receiver holds up no other message; claims what is due whenever it may have been left in the
/// store, and at least every `interval` (retries, group waits and reminders fall due with time
/// alone); fires reminders every `interval`.
struct DeliveryService: Service {
    let notifier: Notifier
    let interval: Double
    let queue: DeliveryQueue
    let logger: Logger

    func run() async throws {
        let queue = self.queue
        let interval = self.interval
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                        queue.claimAgain()
                    }
                }
                // What the subscriber claimed leaves at once, not after the claim or sweep under way here.
                group.addTask {
                    await withDiscardingTaskGroup { senders in
                        for await batch in queue.handed { send(batch, in: &senders) }
                    }
                }
                var lastSweep = Date.distantPast
                for await _ in queue.wakes {
                    if Task.isCancelled { break }
                    guard queue.takeClaimAgain() else { continue }
                    do {
                        // Every interval, not every second: reminders then leave as they fall due
                        // instead of a second's worth at once ahead of new notices. And no more
                        // messages than there is room to send (a member's due reminders go as one):
                        // after an outage every dispatch nobody acknowledged falls due at once, and
                        // that backlog waits among the reminders, not among the due messages, where
                        // a new notice would queue behind all of it.
                        if Date().timeIntervalSince(lastSweep) >= interval {
                            let room = queue.room
                            if room > 0 { try await notifier.sweepReminders(recipients: room) }
                            lastSweep = Date()
                        }
                        let reserved = queue.reserve()
                        var claimed: [Notifier.Batch] = []
                        defer { queue.settle(reserved: reserved, claimed: claimed.count, noticesDue: true) }
                        claimed = try await notifier.claimDue(limit: reserved)
                        for batch in claimed { send(batch, in: &group) }
                    } catch {
                        logger.error("delivery round failed; retrying", metadata: ["error": "\(error)"])
                    }
                }
                group.cancelAll()
            }
        }
    }

    private func send(_ batch: Notifier.Batch, in group: inout DiscardingTaskGroup) {
        group.addTask { [notifier, queue, logger] in
            var fallbackDue = false
            do { fallbackDue = try await notifier.deliver(batch) } catch {
                // Still `sending` in the store: sent again whole, under its id, after a restart.
                logger.error("recording a delivery failed", metadata: ["message": "\(batch.messageId)", "error": "\(error)"])
            }
            queue.finished(claimAgain: fallbackDue)
        }
    }
}

/// Between the two claimers — the subscriber, which claims what it has just planned in the same
/// commit, and the delivery loop — and the senders. At most `limit` messages are claimed and not
/// yet answered; a claim that may have left due messages behind for want of room wakes the loop to
/// claim again as soon as there is room.
final class DeliveryQueue: Sendable {
    let limit: Int
    /// Wakes the claiming loop. Rings coalesce (at most one waits), so waking never blocks or grows.
    let wakes: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    /// Messages the subscriber claimed, to be sent. Unbounded, but never longer than `limit`: each
    /// took its room before it was claimed.
    let handed: AsyncStream<Notifier.Batch>
    private let handOver: AsyncStream<Notifier.Batch>.Continuation
    private let state = Mutex(State())

    private struct State {
        /// Claimed and not yet answered, or reserved for a claim under way.
        var taken = 0
        /// Due messages may wait in the store.
        var claimAgain = false
        /// A claim ran out of room: the next room made wakes a claim.
        var starved = false
    }

    init(limit: Int = 64) {
        self.limit = limit
        (wakes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (handed, handOver) = AsyncStream.makeStream(of: Notifier.Batch.self)
    }

    /// Messages that could be claimed now, without taking the room.
    var room: Int { state.withLock { max(0, limit - $0.taken) } }

    /// Takes all the room there is for one claim; hand back what it did not use with `settle`.
    func reserve() -> Int {
        state.withLock { state in
            let room = max(0, limit - state.taken)
            state.taken += room
            return room
        }
    }

    /// Gives back the room a claim did not use. When notices may be due (the subscriber planned
    /// some; the loop always assumes so), a claim that used all its room may have left some in the
    /// store: the next room made wakes the loop to claim them.
    func settle(reserved: Int, claimed: Int, noticesDue: Bool) {
        if noticesDue, claimed == reserved {
            state.withLock { $0.starved = true }
        } else {
            release(reserved - claimed)
        }
    }

    /// Messages the subscriber claimed, to be sent (their room was reserved).
    func hand(_ batches: [Notifier.Batch]) {
        for batch in batches { handOver.yield(batch) }
    }

    /// Due messages may wait in the store (time passed; a claim was cut short).
    func claimAgain() {
        state.withLock { $0.claimAgain = true }
        continuation.yield()
    }

    /// A message was answered and recorded: its room is free. `claimAgain` when recording it
    /// planned more that is due now (a fallback).
    func finished(claimAgain: Bool = false) { release(1, claimAgain: claimAgain) }

    /// Gives back `room`; wakes the loop to claim when a claim went without room, or when asked.
    private func release(_ room: Int, claimAgain asked: Bool = false) {
        let wake = state.withLock { state -> Bool in
            state.taken -= room
            guard asked || (state.starved && room > 0) else { return false }
            state.starved = false
            state.claimAgain = true
            return true
        }
        if wake { continuation.yield() }
    }

    /// Whether the loop is to claim now (and forget that it was asked).
    func takeClaimAgain() -> Bool {
        state.withLock { state in
            defer { state.claimAgain = false }
            return state.claimAgain
        }
    }
}
