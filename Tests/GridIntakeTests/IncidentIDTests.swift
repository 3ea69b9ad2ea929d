import Foundation
import GridBusClient
import GridBusTestSupport
import GridDistrict
import GridSchema
import GridStore
import Logging
import Synchronization
import Testing
import ZeroMQ

@testable import GridIntake

/// Incident ids sort in the order they were issued (``IncidentID``).
@Suite struct IncidentIDTests {
    @Test func incidentIDsCarryTheMillisecondAndSortAsIssued() {
        let time = Date(timeIntervalSince1970: 1_796_000_000.123)
        let first = IncidentID.next(at: time, after: nil)
        #expect(first.count == 16 && first.hasPrefix("inc-"))
        #expect(IncidentID.value(of: first) == 1_796_000_000_123 << 18)
        // Many in one millisecond, and a clock that goes back: each is one more than the largest.
        var ids = [first]
        for _ in 0..<10_000 { ids.append(IncidentID.next(at: time.addingTimeInterval(-5), after: ids.last)) }
        #expect(Set(ids).count == ids.count)
        #expect(ids == ids.sorted())
        #expect(IncidentID.value(of: ids.last!) == (1_796_000_000_123 << 18) + 10_000)
        // A later millisecond starts from its own first id.
        let later = IncidentID.next(at: time.addingTimeInterval(0.001), after: ids.last)
        #expect(IncidentID.value(of: later) == 1_796_000_000_124 << 18)
    }

    @Test func incidentIDsCountOnFromTheRandomIdsIssuedBefore() {
        // Before, ids were 60 random bits written least significant first; read the other way they
        // are still numbers, and the largest may lie beyond today's time.
        let legacy = "inc-ZZZZZZZZZZZY"
        let next = IncidentID.next(at: Date(timeIntervalSince1970: 1_796_000_000), after: legacy)
        #expect(next == "inc-ZZZZZZZZZZZZ")
        #expect(IncidentID.value(of: "inc-0000000000O1") == nil)  // O is not in the alphabet
        #expect(IncidentID.value(of: "inc-000") == nil)
        #expect(IncidentID.next(at: Date(timeIntervalSince1970: 1), after: "case-17") == IncidentID.encode(1000 << 18))
    }

    @Test func reportsTakeIdsInOrderFromTheStore() async throws {
        let district = IntakeFollowTests.district
        // Never run: the reports' events stay in the outbox.
        let runtime = try offlineRuntime("grid-intake", migrations: Intake.migrations)
        let store = runtime.store
        // An incident filed before the upgrade, with a random id larger than today's first.
        try await store.write { connection, _ in
            try connection.execute(
                """
                INSERT INTO incidents (id, token, client, fingerprint, status, category, created_ms, updated_ms, body)
                VALUES ('inc-ZZZZZZZZZZZ0', 't-ZZZZZZZZZZZ0', 'old', 'f', 'reported', 'x', 0, 0, x'7B7D')
                """
            )
        }
        let clock = Mutex(Date(timeIntervalSince1970: 1_796_000_000))
        let intake = Intake(district: district, runtime: runtime, logger: Logger(label: "test"), now: { clock.withLock { $0 } })
        let category = district.categories.first { !$0.volunteer }!.code
        func file(_ number: Int) async throws -> Incident {
            let body = Data(#"{"category": "\#(category)", "description": "pothole \#(number)", "grid": "\#(district.grids[0].id)"}"#.utf8)
            let input = try ReportInput.parse(json: body, district: district, defaultChannel: .app).get()
            guard case .created(let incident, _) = try await intake.report(input, client: "test", idempotencyKey: nil) else {
                throw CancellationError()
            }
            return incident
        }
        var ids = [try await file(1).id, try await file(2).id]
        #expect(ids == ["inc-ZZZZZZZZZZZ1", "inc-ZZZZZZZZZZZ2"])
        // Without the old incident, ids carry the time: the first of the millisecond, then one more
        // each, also when the clock goes back.
        try await store.write { connection, _ in try connection.execute("DELETE FROM incidents") }
        ids = [try await file(3).id]
        clock.withLock { $0 = $0.addingTimeInterval(-60) }
        let back = try await file(4)
        ids.append(back.id)
        #expect(ids == [IncidentID.encode(1_796_000_000_000 << 18), IncidentID.encode((1_796_000_000_000 << 18) + 1)])
        #expect(back.token == "t-" + back.id.dropFirst(4))
        #expect(try await intake.incident(id: back.id)?.description == "pothole 4")
    }
}
