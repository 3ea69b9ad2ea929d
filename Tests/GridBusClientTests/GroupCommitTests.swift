import Foundation
import GridBusClient
import GridBusTestSupport
import GridSchema
import GridStore
import Testing

@Suite struct GroupCommitTests {
    struct Refused: Error {}

    /// Concurrent transactions share commits; one that throws takes only its own changes back.
    @Test(arguments: StoreEngine.allCases) func concurrentTransactionsCommitTogetherAndFailAlone(engine: StoreEngine) async throws {
        let store = try temporaryStore(engine: engine)
        try await store.write { connection, _ in try connection.execute("CREATE TABLE items (n INTEGER PRIMARY KEY)") }
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for n in 0..<200 {
                group.addTask {
                    do {
                        try await store.write { connection, outbox in
                            let insert = try connection.prepare("INSERT INTO items (n) VALUES (?)")
                            insert.bind(n, at: 1)
                            try insert.run()
                            try outbox.enqueue(
                                TypedEvent(id: "item-\(n)", source: "test", payload: IncidentAcknowledged(incidentId: "inc-\(n)", by: "m-1"))
                            )
                            if n == 17 { throw Refused() }
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { !$0 }.count == 1)
        let rows = try await store.read { Int(try $0.scalar("SELECT COUNT(*) FROM items")) }
        let seventeen = try await store.read { Int(try $0.scalar("SELECT COUNT(*) FROM items WHERE n = 17")) }
        #expect(rows == 199 && seventeen == 0)
        #expect(try await store.outboxCount() == 199)
    }
}
