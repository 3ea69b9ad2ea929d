import Foundation
import GridBusClient
import GridBusTestSupport
import GridPostgres
import GridSchema
import GridStore
import Synchronization
import Testing

/// A worker whose PostgreSQL store goes away for a while: its subscriber waits for the store
/// rather than skipping the events it cannot record, and its publisher carries on once it is back.
@Suite(.timeLimit(.minutes(3)))
struct StoreOutageTests {
    @Test func eventsHeardWhileTheStoreIsDownAreHandledOnceItIsBackNoneSkipped() async throws {
        let server = try PostgresTestServer(name: "outage")
        defer { try? server.stop(mode: "immediate") }
        let url = try PostgresURL(parsing: try server.makeDatabase("outage"))
        var migrations = Migrations()
        migrations.register(
            "outage 1 heard",
            sql: "CREATE TABLE heard (id TEXT PRIMARY KEY)",
            postgresql: ["CREATE TABLE heard (id text PRIMARY KEY)"]
        )
        try await withTestBus { bus in
            let runtime = try WorkerRuntime(
                name: "outage",
                bus: bus.endpoints,
                store: .postgresql(url: url, password: nil, schema: "outage"),
                migrations: migrations,
                logger: TestBus.logger()
            )
            let handled = Mutex(0)
            runtime.subscribe(prefixes: ["incident."]) { events in
                try await runtime.write(durable: false) { connection, _ in
                    let insert = try connection.prepare("INSERT INTO heard (id) VALUES (?) ON CONFLICT DO NOTHING")
                    for event in events {
                        insert.bind(try event.decode().id, at: 1)
                        try insert.run()
                    }
                }
                handled.withLock { $0 += events.count }
            }
            func heard() async throws -> Int64 { try await runtime.read { try $0.scalar("SELECT COUNT(*) FROM heard") } }
            let publisher = DirectPublisher(context: bus.context, endpoint: bus.endpoints.ingress)
            try await running(runtime.services([])) {
                for n in 0..<20 { _ = try await publisher.publish(try incident(n)) }
                try await expectEventually(timeout: .seconds(30)) { try await heard() == 20 }

                try server.stop(mode: "immediate")
                for n in 20..<40 { _ = try await publisher.publish(try incident(n)) }
                // Longer than the three tries of a failing handler (0.1 s and 0.4 s apart).
                try await Task.sleep(for: .seconds(2))
                #expect(handled.withLock { $0 } == 20, "nothing could be recorded meanwhile")
                try server.start()

                try await expectEventually(timeout: .seconds(60)) { try await heard() == 40 }
                // The publisher, which looked at the outbox while the store was away, still delivers.
                try await runtime.write { _, outbox in try outbox.enqueue(try incident(99)) }
                try await expectEventually(timeout: .seconds(30)) { try await runtime.undeliveredCount() == 0 }
            }
            #expect(try await BusRequester(context: bus.context, endpoint: bus.endpoints.replay).status().head == 41)
            await publisher.close()
        }
    }

    struct Unreachable: StoreReachability {
        var storeIsUnreachable: Bool { true }
    }

    /// A handler whose store is away fails more than three times: the events are waited on, not skipped.
    @Test func aHandlerFailingForAnUnreachableStoreIsWaitedForNotSkipped() async throws {
        try await withTestBus { bus in
            let publisher = DirectPublisher(context: bus.context, endpoint: bus.endpoints.ingress)
            for n in 0..<5 { _ = try await publisher.publish(try incident(n)) }
            let failuresLeft = Mutex(5)
            let seen = Seen()
            let subscriber = DurableSubscriber(
                name: "away",
                endpoints: bus.endpoints,
                prefixes: ["incident."],
                store: InMemoryCursorStore(),
                context: bus.context,
                logger: TestBus.logger()
            ) { event in
                if failuresLeft.withLock({ left in
                    defer { left = max(0, left - 1) }
                    return left > 0
                }) {
                    throw Unreachable()
                }
                seen.append(event)
            }
            try await running([subscriber]) {
                try await expectEventually(timeout: .seconds(30)) { seen.count == 5 }
            }
            #expect(seen.sequences == [1, 2, 3, 4, 5])
            await publisher.close()
        }
    }
}
