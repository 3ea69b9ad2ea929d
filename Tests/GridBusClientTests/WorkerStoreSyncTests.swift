import Foundation
import GridBusClient
import GridBusTestSupport
import GridPostgres
import GridSchema
import GridStore
import Synchronization
import Testing

/// Which commits of a durable store are synced: the ones that must survive a power loss (they
/// answered someone, or they hand events to the outbox), not the ones derived from bus events.
@Suite struct WorkerStoreSyncTests {
    static func store(durable: Bool) throws -> WorkerStore {
        try WorkerStore(path: TemporaryFiles.store("sync"), durable: durable)
    }

    /// `synchronous` as the transaction body sees it: 2 is FULL (each commit synced), 1 NORMAL.
    static func synchronous(_ store: WorkerStore, durable: Bool, enqueue: Bool) async throws -> Int64 {
        try await store.write(durable: durable) { connection, outbox in
            if enqueue {
                try outbox.enqueue(
                    TypedEvent(id: "ack-\(UUID().uuidString)", source: "test", payload: IncidentAcknowledged(incidentId: "inc-1", by: "m-1"))
                )
            }
            return try connection.scalar("PRAGMA synchronous")
        }
    }

    static func syncCommits(_ store: WorkerStore) async throws -> Int64 {
        try await store.read { try $0.scalar("SELECT COALESCE(MAX(commits), 0) FROM gridbus_sync") }
    }

    @Test func aDurableStoreSyncsWhatItIsToldToAndWhatItPublishes() async throws {
        let store = try Self.store(durable: true)
        #expect(try await Self.synchronous(store, durable: true, enqueue: false) == 2)
        #expect(try await Self.synchronous(store, durable: true, enqueue: true) == 2)
        #expect(try await Self.syncCommits(store) == 0)
        // Derived changes are not synced on their own…
        #expect(try await Self.synchronous(store, durable: false, enqueue: false) == 1)
        #expect(try await Self.syncCommits(store) == 0)
        // …unless they hand events to the outbox: then a synced commit follows before any send.
        #expect(try await Self.synchronous(store, durable: false, enqueue: true) == 1)
        #expect(try await Self.syncCommits(store) == 1)
        // …or the body asks for it (it is about to act on what it wrote).
        try await store.write(durable: false) { _, outbox in outbox.syncOnCommit() }
        #expect(try await Self.syncCommits(store) == 2)
        // Cursor saves are not synced; the worker's own writes get the store's setting back.
        try await store.saveCursor(5, for: "test")
        #expect(try await store.write { connection, _ in try connection.scalar("PRAGMA synchronous") } == 2)
        #expect(try await store.cursor(for: "test") == 5)
    }

    @Test func aStoreThatIsNotDurableSyncsNothing() async throws {
        let store = try Self.store(durable: false)
        #expect(try await Self.synchronous(store, durable: true, enqueue: true) == 1)
        #expect(try await Self.synchronous(store, durable: false, enqueue: true) == 1)
        #expect(try await Self.syncCommits(store) == 0)
        #expect(try await store.outboxCount() == 2)
    }

    /// On PostgreSQL, a commit of what the worker would hear again returns before its WAL is flushed
    /// (`synchronous_commit` off for it), and every other commit waits. Seen through a synchronous
    /// standby that does not exist: a commit that waits for the flush waits for it for ever.
    @Test(.timeLimit(.minutes(2))) func onPostgreSQLOnlyCommitsThatMayWaitReturnBeforeTheFlush() async throws {
        let server = try PostgresTestServer(name: "sync")
        defer { try? server.stop(mode: "immediate") }
        let url = try PostgresURL(parsing: try server.makeDatabase("sync"))
        var migrations = Migrations()
        migrations.register("sync 1 items", sql: "CREATE TABLE items (n INTEGER)", postgresql: ["CREATE TABLE items (n bigint)"])
        let store = try WorkerStore(.postgresql(url: url, password: nil, schema: "sync"), migrations: migrations)
        func standby(_ name: String) throws {
            try server.psql(name.isEmpty ? "ALTER SYSTEM RESET synchronous_standby_names" : "ALTER SYSTEM SET synchronous_standby_names = '\(name)'")
            try server.psql("SELECT pg_reload_conf()")
            // The reload is signalled: a new session sees it once the server has read the file.
            for _ in 0..<100 where try server.psql("SHOW synchronous_standby_names") != name { usleep(20_000) }
        }
        final class Flag: Sendable {
            let done = Mutex(false)
            var isSet: Bool { done.withLock { $0 } }
        }
        func insert(_ n: Int, durable: Bool, publish: Bool = false) -> (Task<Void, any Error>, Flag) {
            let flag = Flag()
            let task = Task {
                try await store.write(durable: durable) { connection, outbox in
                    try connection.execute("INSERT INTO items (n) VALUES (\(n))")
                    if publish {
                        try outbox.enqueue(TypedEvent(id: "ack-\(n)", source: "test", payload: IncidentAcknowledged(incidentId: "inc-1", by: "m-1")))
                    }
                }
                flag.done.withLock { $0 = true }
            }
            return (task, flag)
        }

        try standby("nobody")
        let (derived, _) = insert(1, durable: false)
        try await derived.value  // returns: nothing waits for the missing standby
        let (answered, answeredDone) = insert(2, durable: true)
        try await Task.sleep(for: .seconds(1))
        #expect(answeredDone.isSet == false, "a durable write waits for its WAL to reach the standby")
        try standby("")
        try await answered.value

        try standby("nobody")
        let (published, publishedDone) = insert(3, durable: false, publish: true)
        try await Task.sleep(for: .seconds(1))
        #expect(publishedDone.isSet == false, "a derived write that hands an event to the outbox waits too")
        try standby("")
        try await published.value
        #expect(try await store.read { try $0.scalar("SELECT SUM(n) FROM items") } == 6)
    }
}
