import Foundation
import GridBusClient
import GridBusTestSupport
import GridMetrics
import GridPostgres
import GridStore
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
        try await first.acquire(metrics: DescribedMetricsFactory())
        #expect(first.standbyState().isStandby == false)
        let firstStore = try WorkerStore(.postgresql(url: url, password: nil, schema: "leased"), migrations: migrations, fence: first.fence)
        try await firstStore.write { connection, _ in try connection.execute("INSERT INTO items (n) VALUES (1)") }

        // The second waits while the first holds the lease (nobody renews it here: it lapses after 1 s).
        let second = instance("second")
        let waited = ContinuousClock.now
        try await second.acquire(metrics: DescribedMetricsFactory())
        #expect(ContinuousClock.now - waited >= .milliseconds(500), "it waited for the lease to lapse")
        let secondStore = try WorkerStore(.postgresql(url: url, password: nil, schema: "leased"), migrations: migrations, fence: second.fence)

        await #expect(throws: LeaseLost.self) {
            try await firstStore.write { connection, _ in try connection.execute("INSERT INTO items (n) VALUES (2)") }
        }
        try await secondStore.write { connection, _ in try connection.execute("INSERT INTO items (n) VALUES (3)") }
        #expect(try await secondStore.read { try $0.scalar("SELECT SUM(n) FROM items") } == 4, "1 and 3: the deposed instance's 2 was not written")
    }
}
