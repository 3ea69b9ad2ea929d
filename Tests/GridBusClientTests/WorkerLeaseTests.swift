import Foundation
import GridBusClient
import GridBusTestSupport
import GridMetrics
import GridPostgres
import GridStore
import PostgresNIO
import Testing

/// Two instances of a worker on one PostgreSQL store: one holds the lease; once another takes it
/// (the first paused past its lease), the first one's writes are refused by the fence.
@Suite(.timeLimit(.minutes(2)))
struct WorkerLeaseTests {
    @Test func aDeposedInstanceWritesNothing() async throws {
        let url = try PostgresURL(parsing: try PostgresTestServer.shared().makeDatabase("lease"))
        var migrations = Migrations()
        migrations.register("lease test 1 items", sql: "CREATE TABLE items (n INTEGER)", postgresql: ["CREATE TABLE items (n bigint)"])
        func instance(_ name: String) -> WorkerLease {
            WorkerLease(url: url, password: nil, schema: "leased", advertise: "http://\(name):8080", seconds: 1, logger: TestBus.logger())
        }
        let first = instance("first")
        let beforeTheClaim = ContinuousClock.now
        try await first.acquire(metrics: DescribedMetricsFactory())
        #expect(first.standbyState().isStandby == false)
        let firstStore = try WorkerStore(.postgresql(url: url, password: nil, schema: "leased"), migrations: migrations, fence: first.fence)
        try await firstStore.write { connection, _ in try connection.execute("INSERT INTO items (n) VALUES (1)") }

        // The second waits while the first holds the lease (nobody renews it here: it lapses after 1 s).
        let second = instance("second")
        try await second.acquire(metrics: DescribedMetricsFactory())
        // The first's lease ran 1 s from its claim (by the server's clock, on this machine).
        #expect(ContinuousClock.now - beforeTheClaim >= .milliseconds(950), "it waited for the lease to lapse")
        let secondStore = try WorkerStore(.postgresql(url: url, password: nil, schema: "leased"), migrations: migrations, fence: second.fence)

        await #expect(throws: LeaseLost.self) {
            try await firstStore.write { connection, _ in try connection.execute("INSERT INTO items (n) VALUES (2)") }
        }
        try await secondStore.write { connection, _ in try connection.execute("INSERT INTO items (n) VALUES (3)") }
        #expect(try await secondStore.read { try $0.scalar("SELECT SUM(n) FROM items") } == 4, "1 and 3: the deposed instance's 2 was not written")
    }

    /// A write transaction holds the fence: the holder's renewals go on meanwhile (however long it
    /// lasts), while a takeover waits for it to end, so the new holder sees all it wrote.
    @Test func renewalsDoNotWaitForAWriteButATakeoverDoes() throws {
        let url = try PostgresURL(parsing: try PostgresTestServer.shared().makeDatabase("lease"))
        func link(seconds: Double) -> PostgresLink {
            let link = PostgresLink(url: url, password: nil, logger: TestBus.logger())
            link.answerTimeout = seconds
            return link
        }
        let holder = PostgresLease(schema: "fenced", holder: "holder", seconds: 0.5)
        let holderLink = link(seconds: 1)
        try holder.prepare(on: holderLink)
        let epoch = try #require(try holder.claim(epoch: -1, advertise: "a", on: holderLink))
        let writer = link(seconds: 5)
        defer {
            for open in [holderLink, writer] { open.close() }
        }
        try writer.query("BEGIN")
        #expect(try writer.query(PostgresQuery(unsafeSQL: holder.fence(epoch))).rows.count == 1)

        #expect(try holder.claim(epoch: epoch, advertise: "a", on: holderLink) == epoch, "renewed while the write is open")
        Thread.sleep(forTimeInterval: 0.7)  // the lease lapses
        let successor = PostgresLease(schema: "fenced", holder: "successor", seconds: 60)
        let successorLink = link(seconds: 0.5)
        #expect(throws: PostgresLinkError.self, "the takeover waits for the open write") {
            try successor.claim(epoch: -1, advertise: "b", on: successorLink)
        }
        successorLink.close()
        try writer.query("COMMIT")
        // The claim given up on by its client still waits in the server, and takes the lease now.
        let later = link(seconds: 2)
        defer { later.close() }
        var holderNow = try holder.holderNow(on: later)
        for _ in 0..<40 where holderNow.advertise != "b" {
            Thread.sleep(forTimeInterval: 0.05)
            holderNow = try holder.holderNow(on: later)
        }
        #expect(holderNow.advertise == "b" && holderNow.live)
        #expect(try holder.claim(epoch: epoch, advertise: "a", on: holderLink) == nil, "the first holder is deposed")
    }
}
