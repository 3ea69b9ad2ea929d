import Foundation
import GridBusClient
import GridBusTestSupport
import GridSchema
import GridStore
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
}
