import Foundation
import GridSchema

/// An event the journal has stored: what egress fans out and replay serves.
public struct JournalEntry: Sendable, Hashable {
    public let sequence: UInt64
    public let topic: [UInt8]
    /// The publisher's bytes with `gridbusseq` spliced in.
    public let event: [UInt8]
}

/// The outcome of appending one event.
enum AppendOutcome: Sendable, Hashable {
    case appended(UInt64)
    /// The same `(source, id)` was journaled before under this sequence; nothing was written.
    case duplicate(UInt64)
    case failed(String)
    /// This node does not lead: the leader's advertised ingress endpoint, when known.
    case notLeader(String?)
}

extension AppendOutcome {
    /// The sequence an ACK carries, nil for a refusal.
    var acknowledgedSequence: UInt64? {
        switch self {
        case .appended(let sequence), .duplicate(let sequence): sequence
        case .failed, .notLeader: nil
        }
    }
}

/// Who writes the journal. On SQLite it is always this node; on PostgreSQL it is the node holding
/// the lease, and every write checks the lease's epoch in its own transaction (fencing).
enum JournalRole: Sendable, Hashable {
    case leader(epoch: UInt64)
    /// Another node leads; its advertised ingress endpoint, when known.
    case follower(leader: String?)
    /// PostgreSQL cannot be reached: this node neither writes nor claims to know the head.
    case unavailable(String)

    var name: String {
        switch self {
        case .leader: "leader"
        case .follower: "follower"
        case .unavailable: "unavailable"
        }
    }

    var isLeader: Bool { if case .leader = self { true } else { false } }
    var isUnavailable: Bool { if case .unavailable = self { true } else { false } }
}

/// The journal's writing side, owned by the journal thread: the SQLite file (the embedded default)
/// or the PostgreSQL tables that several gridbusd nodes share. The contract is the same on both
/// (Tests/GridBusDaemonTests/JournalContractTests.swift): global sequences without gaps,
/// de-duplication by `(source, id)` answering with the first sequence, a batch in one transaction,
/// retention by age and by bytes from the oldest end.
protocol JournalStorage: AnyObject {
    var head: UInt64 { get }
    var tail: UInt64 { get }
    var eventBytes: Int64 { get }
    /// The memory held for de-duplication (SQLite keeps keys in memory; PostgreSQL asks its index).
    var keysMemoryBytes: Int { get }
    var role: JournalRole { get }
    /// On a follower, how many events the leader has written that this node has not read yet.
    var behind: UInt64 { get }
    /// How long the journal thread waits for a batch before calling ``maintain()`` again.
    var idleWait: Double { get }

    /// Appends a group of events in one transaction (group commit).
    /// - Returns: one outcome per event, and the entries newly written, in sequence order.
    func append(_ events: [IncomingEvent], receivedAt: Int64) -> (outcomes: [AppendOutcome], written: [JournalEntry])

    /// Removes the oldest events while they are older than `maxAge` seconds or hold more than `maxBytes`.
    /// - Returns: the number of events removed.
    @discardableResult
    func enforceRetention(now: Date, maxAge: Double, maxBytes: Int) throws -> Int

    /// Called by the journal thread between batches: keeps the role (renews or takes the lease) and,
    /// on a follower, returns what the leader wrote since ``head``, for the egress.
    func maintain() -> [JournalEntry]

    /// At a graceful stop: a leader hands the lease back, so that another node leads at once
    /// instead of after the lease times out.
    func close()
}

extension JournalStorage {
    func close() {}
    var behind: UInt64 { 0 }
    var eventCount: UInt64 { head == 0 || tail == 0 ? 0 : head - tail + 1 }
}

/// The journal's reading side, for replay: owned by the replay thread.
protocol JournalReading: AnyObject {
    /// Events after `sequence` whose topic starts with one of `prefixes`.
    /// - Returns: up to `limit` matching entries, and the last sequence examined (the next request starts after it),
    ///   examining at most `scanLimit` events so that a sparse prefix cannot make one answer slow.
    func read(after sequence: UInt64, prefixes: [[UInt8]], limit: Int, scanLimit: Int) throws -> (entries: [JournalEntry], lastExamined: UInt64)
}
