import Foundation
import GridBusTestSupport
import GridPostgres
import Logging
import Testing

@testable import GridBusDaemon

/// The database itself fails over: a primary with a synchronous streaming standby
/// (`pg_basebackup -R`), the primary killed, the standby promoted by hand (as Patroni would). The
/// journal finds the new primary through its multi-host URL and loses nothing it had committed.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PostgresFailoverTests {
    @Test func aCommittedEventSurvivesTheLossOfThePrimary() throws {
        let primary = try PostgresTestServer(
            name: "primary",
            configuration: ["wal_level = replica", "max_wal_senders = 5", "synchronous_standby_names = 'standby'"]
        )
        let standby = try PostgresTestServer(standbyOf: primary, name: "standby", applicationName: "standby")
        defer {
            try? standby.stop(mode: "immediate")
            try? primary.stop(mode: "immediate")
        }
        // The standby confirms commits: with synchronous_standby_names set, COMMIT waits for its flush.
        try primary.awaitSynchronousStandby("standby")
        try primary.psql("CREATE DATABASE journal")

        let url = try PostgresURL(
            parsing:
                "postgresql://postgres@127.0.0.1:\(primary.port),127.0.0.1:\(standby.port)/journal?target_session_attrs=read-write&sslmode=disable"
        )
        let settings = PostgresJournalSettings(url: url, password: nil, advertise: { "tcp://node:7600" }, leaseSeconds: 0.5)
        let journal = try PostgresJournal(settings: settings, logger: Logger(label: "failover"))
        defer { journal.close() }
        _ = journal.maintain()
        #expect(journal.role == .leader(epoch: 1))
        let events = try (1...100).map { try JournalContractTests.incoming("e\($0)") }
        let acked = journal.append(events, receivedAt: 1).outcomes
        #expect(acked == (1...100).map { .appended(UInt64($0)) })

        // The primary's machine is lost; the standby is promoted and stops waiting for a standby of its own.
        try primary.stop(mode: "immediate")
        try standby.psql("ALTER SYSTEM SET synchronous_standby_names = ''")
        try standby.promote()
        try standby.psql("SELECT pg_reload_conf()")

        // The publisher retries e101 until it is answered: the first tries may find the connection
        // gone (refused, retryable; the node says it is cut off); the journal reconnects through the
        // URL's second host, checks its head against the promoted standby's table, and writes on.
        var outcome = AppendOutcome.failed("not tried")
        var refusals = 0
        let deadline = ContinuousClock.now + .seconds(20)
        while outcome.acknowledgedSequence == nil, ContinuousClock.now < deadline {
            _ = journal.maintain()
            outcome = journal.append([try JournalContractTests.incoming("e101")], receivedAt: 2).outcomes[0]
            if case .failed = outcome {
                refusals += 1
                #expect(journal.role.isUnavailable)
            }
            if outcome.acknowledgedSequence == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(outcome == .appended(101), "after \(refusals) refusals")
        #expect(journal.role.isLeader && journal.head == 101)
        #expect(journal.append([try JournalContractTests.incoming("e50")], receivedAt: 3).outcomes == [.duplicate(50)])
        let everything = try PostgresJournalReader(settings: settings, logger: Logger(label: "reader"))
            .read(after: 0, prefixes: [[]], limit: 1000, scanLimit: 1000)
        // Every event ACKed before the loss is there, once, without a gap.
        #expect(everything.entries.map(\.sequence) == Array(1...101))
    }
}
