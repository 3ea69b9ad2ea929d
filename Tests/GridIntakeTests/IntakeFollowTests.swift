import Foundation
import GridBusClient
import GridBusTestSupport
import GridDistrict
import GridSchema
import GridStore
import Logging
import Testing
import ZeroMQ

@testable import GridIntake

/// The timeline follower: a catch-up longer than one transaction's share (``Intake/followChunk``)
/// is applied whole, each event once, in each incident's step order.
@Suite struct IntakeFollowTests {
    static let district = try! District.load(
        directory: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/sample").path
    )

    @Test func aCatchUpLongerThanAChunkIsAppliedWhole() async throws {
        // Never run: the reports' events stay in the outbox, which is all this test needs.
        let runtime = try offlineRuntime("grid-intake", migrations: Intake.migrations)
        let store = runtime.store
        let intake = Intake(district: Self.district, runtime: runtime, logger: Logger(label: "test"))
        let category = Self.district.categories.first { !$0.volunteer }!.code
        let grid = Self.district.grids[0].id
        var ids: [String] = []
        for number in 0..<20 {
            let body = Data(#"{"category": "\#(category)", "description": "blocked drain \#(number)", "grid": "\#(grid)"}"#.utf8)
            let input = try ReportInput.parse(json: body, district: Self.district, defaultChannel: .app).get()
            guard case .created(let incident, _) = try await intake.report(input, client: "test", idempotencyKey: nil) else {
                Issue.record("report \(number) was not created")
                return
            }
            ids.append(incident.id)
        }
        let deadline = Date(timeIntervalSince1970: 1_800_000_000)
        // Each incident registered (step 1) and dispatched (step 2), 40 events, more than two chunks,
        // the dispatches first: each incident's registration comes late and must not set its status.
        var events: [[UInt8]] = []
        for id in ids {
            events.append(
                try TypedEvent(
                    id: CaseStep.eventID(incident: id, step: 2),
                    source: "grid-dispatcher",
                    payload: IncidentDispatched(incidentId: id, assignees: ["m-1"], role: "grid-worker", acknowledgeBy: deadline, deadline: deadline),
                    subject: id,
                    grid: grid
                ).jsonBytes()
            )
        }
        for id in ids {
            events.append(
                try TypedEvent(
                    id: CaseStep.eventID(incident: id, step: 1),
                    source: "grid-dispatcher",
                    payload: IncidentRegistered(incidentId: id, category: category, grid: grid, priority: .normal, deadline: deadline),
                    subject: id,
                    grid: grid
                ).jsonBytes()
            )
        }
        #expect(events.count > 2 * Intake.followChunk)
        // And one event the dispatcher did not number, for the first incident.
        events.append(
            try TypedEvent(
                id: "ops-1",
                source: "ops-console",
                payload: IncidentEscalated(incidentId: ids[0], level: "grid-chief", to: ["m-2"], reason: "by hand"),
                subject: ids[0],
                grid: grid
            ).jsonBytes()
        )
        let busEvents = events.enumerated().map { BusEvent(sequence: UInt64($0.offset + 1), topic: "incident.", bytes: $0.element) }
        try await intake.follow(busEvents)
        try await intake.follow(busEvents)  // heard again after a restart: nothing changes
        for id in ids {
            let incident = try #require(try await intake.incident(id: id))
            #expect(incident.status == .dispatched)
            let escalated = id == ids[0] ? ["incident.escalated"] : []
            #expect(incident.timeline.map(\.type) == ["incident.reported", "incident.registered", "incident.dispatched"] + escalated)
        }
        // A numbered event's record is its step in the timeline; only the other one has a row of its own.
        #expect(try await store.read { try $0.scalar("SELECT COUNT(*) FROM lifecycle_seen") } == 1)
    }
}
