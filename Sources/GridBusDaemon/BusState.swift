import Foundation
import Synchronization

/// What the loops share for status and health: the journal's extent and the subscribers' reports.
/// Each loop writes its own part; `gridctl status` and `/healthz` read a snapshot.
final class BusState: Sendable {
    struct SubscriberReport: Sendable, Codable, Hashable {
        var name: String
        var cursor: UInt64
        var lastReport: Date
        var lagging: Bool
    }

    struct Snapshot: Sendable {
        var head: UInt64 = 0
        var tail: UInt64 = 0
        var journalEvents: UInt64 = 0
        var journalBytes: Int64 = 0
        var subscriptions = 0
        var subscribers: [String: SubscriberReport] = [:]
        var loopsRunning = 0
        var lastJournalError: String?
        /// This node's part in the cluster: on SQLite always the leader.
        var role = JournalRole.leader(epoch: 0)
        /// This node's ingress as publishers reach it (`cluster.advertise`, or the bound endpoint).
        var advertise = ""
    }

    private let state = Mutex(Snapshot())
    let startedAt = Date()

    func update(_ body: (inout Snapshot) -> Void) { state.withLock { body(&$0) } }
    var snapshot: Snapshot { state.withLock { $0 } }
    var head: UInt64 { state.withLock { $0.head } }
}
