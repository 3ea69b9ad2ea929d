import Foundation
import GridBusClient
import GridBusTestSupport
import GridDispatch
import GridDistrict
import GridSchema
import GridStore
import Testing

/// The dispatcher's state rebuilt from the journal equals the live state: every case, the
/// emergency places and the round-robin turns.
@Suite struct RebuildTests {
    typealias Fixture = DispatcherTests.Fixture

    /// Drives cases through every kind of step: the lifecycle, a return, an extension, a suspension,
    /// rework, reopening, escalation and overdue on the clock, a merge, a rejection, triage and
    /// placing, a micro-wish, emergency mode, and a redelivered report.
    static func scenario() async throws -> Fixture {
        let fixture = try await Fixture(strategy: .roundRobin)
        let dispatcher = fixture.dispatcher
        func act(_ id: String, _ action: CaseAction, _ input: ActionInput) async throws {
            guard case .done = try await dispatcher.act(id, action, input) else { throw Failure("\(action) on \(id) was refused") }
        }
        let gate = GeoPoint(latitude: 30.2, longitude: 120.15)
        try await fixture.report("inc-1", at: gate)
        try await fixture.report("inc-1", at: gate)  // redelivered
        try await fixture.report("inc-2")
        try await fixture.report("inc-3", category: "C-01-05")
        try await fixture.report("inc-4")
        try await fixture.report("inc-5", at: GeoPoint(latitude: 30.2002, longitude: 120.15))  // merges into inc-1
        try await fixture.report("inc-6", category: "Z-99-99")  // rejected
        try await fixture.report("inc-7", grid: nil)  // triage, placed below
        try await fixture.report("inc-8", grid: nil)  // triage, left there
        try await fixture.report("wish-1", category: "G-04-01")
        let other = try #require(DispatcherTests.district.grids.first { $0.community != "C-01-01" })
        _ = try await dispatcher.setMode(scope: .community, target: other.community, mode: .emergency, by: "ops", reason: "typhoon")
        try await fixture.report("inc-9", grid: other.id)

        let by = ActionInput(by: "m-x", note: "done", reason: "not ours")
        for action in [CaseAction.acknowledge, .start, .handle, .verifyFail, .handle, .verifyPass, .close, .reopen] {
            try await act("inc-1", action, by)
        }
        try await act("inc-2", .returnAsWronglyDispatched, by)
        try await act("inc-3", .acknowledge, by)
        try await act("inc-3", .extend, ActionInput(by: "m-x", deadline: fixture.clock.now.addingTimeInterval(40 * 86400)))
        try await act("inc-3", .start, by)
        try await act("inc-3", .suspend, by)
        try await act("inc-3", .resume, by)
        try await act("inc-7", .place, ActionInput(by: "ops", grid: "G-01-01-01"))
        let volunteer = try #require(DispatcherTests.district.members(of: "G-01-01-01").first { $0.role == .residentMember }?.id)
        try await act("wish-1", .claim, ActionInput(by: volunteer))
        for action in [CaseAction.start, .handle, .verifyPass, .close] { try await act("wish-1", action, by) }
        _ = try await dispatcher.setMode(scope: .community, target: other.community, mode: .normal, by: "ops", reason: nil)
        // inc-4 is never acknowledged: escalated, then reminded; inc-2 again after acknowledging, overdue.
        fixture.clock.advance(31 * 60)
        try await dispatcher.sweep()
        try await act("inc-2", .acknowledge, by)
        fixture.clock.advance(3 * 3600)
        try await dispatcher.sweep()
        return fixture
    }

    static func rebuild(_ journal: [[UInt8]], settings: DispatchSettings) async throws -> (DispatcherRebuild.Snapshot, DispatcherRebuild.Summary) {
        let store = try WorkerStore(path: TemporaryFiles.store("rebuilt"), migrations: Dispatcher.migrations)
        let rebuild = DispatcherRebuild(settings: settings)
        return try await store.write(durable: false) { connection, _ in
            var summary = DispatcherRebuild.Summary()
            for bytes in journal { try rebuild.apply(bytes, on: connection, summary: &summary) }
            return (try DispatcherRebuild.Snapshot.read(connection), summary)
        }
    }

    @Test func aRebuildFromTheJournalEqualsTheLiveState() async throws {
        let fixture = try await Self.scenario()
        let live = try await fixture.store.read { try DispatcherRebuild.Snapshot.read($0) }
        // The scenario covers the ground: many states, timers, returns, escalation, turns.
        #expect(Set(live.cases.values.map(\.state)).count >= 6)
        #expect(live.cases.values.contains { $0.escalationLevel > 0 } && live.cases.values.contains { $0.returns > 0 })
        #expect(!live.turns.isEmpty)

        let journal = try await fixture.journal()
        let (rebuilt, summary) = try await Self.rebuild(journal, settings: fixture.settings)
        #expect(DispatcherRebuild.differences(live: live, rebuilt: rebuilt) == [])
        #expect(summary.cases == live.cases.count && summary.orphans == 0)

        // Every event delivered twice changes nothing.
        let (twice, again) = try await Self.rebuild(journal.flatMap { [$0, $0] }, settings: fixture.settings)
        #expect(DispatcherRebuild.differences(live: live, rebuilt: twice) == [])
        #expect(again.duplicates > 0)

        // Each case's own events in reverse order (the bus may journal a retried publish after a
        // later one): the steps still apply in order.
        var positions: [String: [Int]] = [:]
        for (index, bytes) in journal.enumerated() {
            let event = try CloudEvent.decode(bytes)
            if event.source == Dispatcher.source, let subject = event.subject, event.type != "grid.mode.changed" {
                positions[subject, default: []].append(index)
            }
        }
        var reordered = journal
        for indices in positions.values { for (to, from) in zip(indices, indices.reversed()) { reordered[to] = journal[from] } }
        #expect(reordered != journal)
        let (unordered, heldBack) = try await Self.rebuild(reordered, settings: fixture.settings)
        #expect(DispatcherRebuild.differences(live: live, rebuilt: unordered) == [])
        #expect(heldBack.heldCount == 0 && heldBack.events == journal.count)

        // The comparison does see a difference: a journal missing its last events is not the live state.
        let (short, _) = try await Self.rebuild(Array(journal.dropLast(2)), settings: fixture.settings)
        #expect(!DispatcherRebuild.differences(live: live, rebuilt: short).isEmpty)
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
