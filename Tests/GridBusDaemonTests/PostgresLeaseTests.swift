import Foundation
import GridBusTestSupport
import GridPostgres
import Logging
import Synchronization
import Testing

@testable import GridBusDaemon

/// Several nodes on one PostgreSQL journal: one leads by the lease, followers read what it writes,
/// a deposed leader's write is fenced off in its own transaction, and a node cut off from the
/// database says so. Real servers (``PostgresTestServer``).
@Suite struct PostgresLeaseTests {
    static func node(_ url: String, advertise: String, leaseSeconds: Double = 2, wake: @escaping @Sendable () -> Void = {}) throws -> PostgresJournal
    {
        try PostgresJournal(
            settings: PostgresJournalSettings(
                url: PostgresURL(parsing: url),
                password: nil,
                advertise: { advertise },
                leaseSeconds: leaseSeconds,
                wake: wake
            ),
            logger: Logger(label: advertise)
        )
    }

    /// a leads on a lease of 0.2 s, which lapses as soon as it stops renewing; b's own lease is
    /// long, so that only a's lapses in a test.
    static func leaderThatWillPauseAndSuccessor() throws -> (url: String, a: PostgresJournal, b: PostgresJournal) {
        let url = try PostgresTestServer.shared().makeDatabase("lease")
        let a = try node(url, advertise: "tcp://a:7600", leaseSeconds: 0.2)
        let b = try node(url, advertise: "tcp://b:7600", leaseSeconds: 60)
        _ = a.maintain()
        return (url, a, b)
    }

    static func events(_ ids: [String]) throws -> [IncomingEvent] { try ids.map { try JournalContractTests.incoming($0) } }

    @Test func aFollowerNamesTheLeaderAndReadsWhatItWrites() throws {
        let url = try PostgresTestServer.shared().makeDatabase("lease")
        let a = try Self.node(url, advertise: "tcp://a:7600")
        let b = try Self.node(url, advertise: "tcp://b:7600")
        defer {
            a.close()
            b.close()
        }
        _ = a.maintain()
        _ = b.maintain()
        #expect(a.role == .leader(epoch: 1))
        #expect(b.role == .follower(leader: "tcp://a:7600"))
        let written = a.append(try Self.events(["e1", "e2", "e3"]), receivedAt: 1).written
        #expect(b.maintain() == written)
        #expect(b.head == 3)
        // A publish that reaches the follower is sent to the leader, duplicates included.
        #expect(b.append(try Self.events(["e4", "e1"]), receivedAt: 2).outcomes == [.notLeader("tcp://a:7600"), .notLeader("tcp://a:7600")])
        #expect(a.append(try Self.events(["e4", "e1"]), receivedAt: 2).outcomes == [.appended(4), .duplicate(1)])
    }

    @Test func theLeadersWriteWakesTheFollowersButNotItself() throws {
        let url = try PostgresTestServer.shared().makeDatabase("lease")
        let wakesA = Mutex(0)
        let wakesB = Mutex(0)
        let a = try Self.node(url, advertise: "tcp://a:7600", leaseSeconds: 60, wake: { wakesA.withLock { $0 += 1 } })
        let b = try Self.node(url, advertise: "tcp://b:7600", leaseSeconds: 60, wake: { wakesB.withLock { $0 += 1 } })
        defer { b.close() }
        _ = a.maintain()
        _ = b.maintain()
        #expect(a.role.isLeader && !b.role.isLeader)
        let written = a.append(try Self.events(["e1", "e2"]), receivedAt: 1).written
        // The notification is sent at the commit, on b's own connection.
        let deadline = ContinuousClock.now + .seconds(10)
        while wakesB.withLock({ $0 }) == 0, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.005) }
        #expect(wakesB.withLock { $0 } == 1)
        #expect(b.maintain() == written)
        // b leads after a's graceful stop: its own writes do not wake it.
        a.close()
        Thread.sleep(forTimeInterval: 0.15)
        _ = b.maintain()
        #expect(b.role == .leader(epoch: 2))
        #expect(b.append(try Self.events(["e3"]), receivedAt: 2).outcomes == [.appended(3)])
        Thread.sleep(forTimeInterval: 0.3)
        #expect(wakesB.withLock { $0 } == 1)
        #expect(wakesA.withLock { $0 } == 0)
    }

    @Test func aDeposedLeaderCannotWriteAndTheNextLeaderContinuesTheSequence() throws {
        let (url, a, b) = try Self.leaderThatWillPauseAndSuccessor()
        defer {
            a.close()
            b.close()
        }
        _ = a.append(try Self.events(["e1", "e2"]), receivedAt: 1)
        // a pauses (it does not renew) past its lease; b takes over and catches up first.
        Thread.sleep(forTimeInterval: 0.4)
        let caughtUp = b.maintain()
        #expect(b.role == .leader(epoch: 2))
        #expect(caughtUp.map(\.sequence) == [1, 2] && b.head == 2)
        // a still believes it leads: its write checks the epoch in its own transaction and is refused.
        #expect(a.role == .leader(epoch: 1))
        let fenced = a.append(try Self.events(["from-a"]), receivedAt: 2)
        #expect(fenced.written.isEmpty && fenced.outcomes == [.notLeader(nil)])
        #expect(!a.role.isLeader)
        #expect(b.append(try Self.events(["from-b", "e2"]), receivedAt: 3).outcomes == [.appended(3), .duplicate(2)])
        let everything = try PostgresJournalReader(
            settings: PostgresJournalSettings(url: PostgresURL(parsing: url), password: nil, advertise: { "" }),
            logger: Logger(label: "reader")
        ).read(after: 0, prefixes: [[]], limit: 100, scanLimit: 100)
        #expect(everything.entries.map(\.sequence) == [1, 2, 3])
        // a learns who leads now, and follows from where it was.
        #expect(a.maintain().map(\.sequence) == [3])
        #expect(a.role == .follower(leader: "tcp://b:7600"))
    }

    @Test func aNewLeaderFarBehindCatchesUpAPageAtATimeBeforeWriting() throws {
        let (_, a, b) = try Self.leaderThatWillPauseAndSuccessor()
        defer {
            a.close()
            b.close()
        }
        let count = PostgresJournal.followPage * 2 + 2000
        for start in stride(from: 0, to: count, by: 2000) {
            _ = a.append(try Self.events((start..<start + 2000).map { "e\($0)" }), receivedAt: 1)
        }
        Thread.sleep(forTimeInterval: 0.4)
        // b takes the lease and reads what it has not fanned out, in pages, before it writes.
        var seen: [UInt64] = []
        var calls = 0
        while !b.role.isLeader, calls < 20 {
            #expect(b.append(try Self.events(["early"]), receivedAt: 2).written.isEmpty, "no write before it has caught up")
            seen += b.maintain().map(\.sequence)
            calls += 1
        }
        #expect(seen == Array(1...UInt64(count)) && calls > 1)
        #expect(b.role == .leader(epoch: 2))
        #expect(b.append(try Self.events(["next"]), receivedAt: 2).outcomes == [.appended(UInt64(count) + 1)])
    }

    @Test func aGracefulStopHandsTheLeaseOverAtOnce() throws {
        let url = try PostgresTestServer.shared().makeDatabase("lease")
        let a = try Self.node(url, advertise: "tcp://a:7600", leaseSeconds: 60)
        let b = try Self.node(url, advertise: "tcp://b:7600", leaseSeconds: 60)
        defer { b.close() }
        _ = a.maintain()
        _ = b.maintain()
        #expect(a.role.isLeader && !b.role.isLeader)
        a.close()
        // A follower looks at the lease every 100 ms at most.
        Thread.sleep(forTimeInterval: 0.15)
        _ = b.maintain()
        #expect(b.role == .leader(epoch: 2), "without waiting out a 60 s lease")
    }

    @Test func aNodeCutOffFromPostgreSQLNeitherWritesNorClaimsTheHead() throws {
        let server = try PostgresTestServer(name: "cut-off")
        let url = try server.makeDatabase("lease")
        let a = try Self.node(url, advertise: "tcp://a:7600")
        defer { a.close() }
        _ = a.maintain()
        _ = a.append(try Self.events(["e1"]), receivedAt: 1)
        try server.stop(mode: "immediate")
        let failed = a.append(try Self.events(["e2"]), receivedAt: 2)
        #expect(failed.written.isEmpty)
        guard case .failed(let reason)? = failed.outcomes.first else {
            Issue.record("expected a storage failure, got \(failed.outcomes)")
            return
        }
        #expect(reason.contains("PostgreSQL"))
        #expect(a.role.isUnavailable)
        // Back: the node takes its own lease again (nobody else took it: the same epoch) and writes
        // on from the true head.
        try server.start()
        let deadline = ContinuousClock.now + .seconds(10)
        while !a.role.isLeader, ContinuousClock.now < deadline {
            _ = a.maintain()
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(a.role == .leader(epoch: 1))
        #expect(a.append(try Self.events(["e2"]), receivedAt: 3).outcomes == [.appended(2)])
        try server.stop(mode: "fast")
    }
}
