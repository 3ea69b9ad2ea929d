import Foundation
import GridBusClient
import GridBusTestSupport
import GridDistrict
import GridJSON
import GridSchema
import GridStore
import Logging
import Synchronization
import Testing
import ZeroMQ

@testable import GridDispatch

/// The dispatcher with an injected clock and no bus: what it publishes is read from its outbox.
@Suite struct DispatcherTests {
    typealias Clock = TestClock

    static let district = try! District.load(
        directory: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/sample").path
    )
    /// Wednesday 2026-11-25 10:00 in China: grid workers are on duty.
    static let morning = Date(timeIntervalSince1970: 1_795_572_000)

    struct Fixture {
        let dispatcher: Dispatcher
        let store: WorkerStore
        let clock: Clock
        let settings: DispatchSettings
        /// The reports handed in, each with the last outbox row before it: with the outbox, the
        /// order a journal would hold them in.
        let reports = Reports()
        final class Reports: Sendable {
            let list = Mutex<[(afterRow: Int64, bytes: [UInt8])]>([])
        }

        init(
            engine: StoreEngine = .sqlite,
            path: String? = nil,
            clock: Clock = Clock(DispatcherTests.morning),
            settings: DispatchSettings = DispatchSettings(),
            strategy: AssignmentStrategy = .leastLoad
        ) async throws {
            let runtime = try offlineRuntime("grid-dispatcher", migrations: Dispatcher.migrations, path: path, engine: engine)
            self.store = runtime.store
            self.clock = clock
            self.settings = settings
            dispatcher = Dispatcher(
                district: DispatcherTests.district,
                assigner: Assigner(district: DispatcherTests.district, strategy: strategy),
                calendar: WorkCalendar(),
                settings: settings,
                runtime: runtime,
                logger: Logger(label: "test"),
                now: { clock.now }
            )
        }

        func report(
            _ id: String,
            grid: String? = "G-01-01-01",
            category: String = "E-01-02",
            at location: GeoPoint? = nil,
            eventID: String? = nil
        ) async throws {
            let event = try CloudEvent(
                id: eventID ?? "reported-\(id)",
                source: "grid-intake",
                payload: IncidentReported(
                    incidentId: id,
                    category: category,
                    description: "d",
                    channel: .app,
                    reportedAt: clock.now,
                    grid: grid,
                    location: location
                ),
                grid: grid
            )
            let bytes = try event.jsonBytes()
            let lastRow = try await store.pending(after: 0, limit: 100_000).last?.rowID ?? 0
            reports.list.withLock { $0.append((lastRow, bytes)) }
            try await dispatcher.handle(BusEvent(sequence: 1, topic: event.topic.description, bytes: bytes))
        }

        /// What the bus would have journaled: the reports and everything the dispatcher published, in order.
        func journal() async throws -> [[UInt8]] {
            var pendingReports = reports.list.withLock { $0 }[...]
            var journal: [[UInt8]] = []
            for row in try await store.pending(after: 0, limit: 100_000) {
                while let report = pendingReports.first, report.afterRow < row.rowID {
                    journal.append(report.bytes)
                    pendingReports.removeFirst()
                }
                journal.append(row.bytes)
            }
            return journal + pendingReports.map(\.bytes)
        }

        /// Types of the events published so far, in order, with their data.
        func published() async throws -> [(type: String, data: [String: JSONValue])] {
            try await store.pending(after: 0, limit: 10_000).map { row in
                let event = try CloudEvent.decode(row.bytes)
                guard case .object(let data)? = event.data else { return (event.type, [:]) }
                return (event.type, data)
            }
        }
    }

    @Test(arguments: StoreEngine.allCases) func aReportIsRegisteredAndDispatchedOnceEvenWhenRedelivered(engine: StoreEngine) async throws {
        let fixture = try await Fixture(engine: engine)
        try await fixture.report("inc-1")
        try await fixture.report("inc-1")  // redelivery after a crash: ignored
        let events = try await fixture.published()
        #expect(events.map(\.type) == ["incident.registered", "incident.dispatched"])
        let dispatched = events[1].data
        #expect(dispatched["role"] == .string("grid-worker") && dispatched["policy"] == .string("least-load"))
        // E-01-02 allows 2 h of natural time.
        #expect(events[0].data["deadline"] == .string(RFC3339.format(DispatcherTests.morning.addingTimeInterval(2 * 3600))))
        let item = try #require(try await fixture.dispatcher.get("inc-1"))
        #expect(item.state == .dispatched && item.timer == .acknowledge && item.timerAt == DispatcherTests.morning.addingTimeInterval(30 * 60))
    }

    /// Reports of one category within 50 m and an hour of an open case merge into it; farther, later,
    /// or of another category, they are cases of their own.
    @Test(arguments: StoreEngine.allCases) func nearbyDuplicatesMergeIntoTheOpenCase(engine: StoreEngine) async throws {
        let fixture = try await Fixture(engine: engine)
        let gate = GeoPoint(latitude: 30.2, longitude: 120.15)
        try await fixture.report("inc-1", at: gate)
        fixture.clock.advance(600)
        try await fixture.report("inc-2", at: GeoPoint(latitude: 30.2003, longitude: 120.15))  // 33 m away
        try await fixture.report("inc-3", at: GeoPoint(latitude: 30.201, longitude: 120.15))  // 111 m away
        try await fixture.report("inc-4", category: "C-01-05", at: gate)  // another category
        fixture.clock.advance(3600)
        try await fixture.report("inc-5", at: gate)  // after the window
        let merged = try await fixture.published().filter { $0.type == "incident.merged" }
        #expect(merged.map { $0.data["incidentId"] } == [.string("inc-2")])
        #expect(merged.first?.data["caseId"] == .string("inc-1"))
        #expect(try await fixture.dispatcher.get("inc-2")?.state == .merged)
        for id in ["inc-3", "inc-4", "inc-5"] { #expect(try await fixture.dispatcher.get(id)?.state == .dispatched, "\(id)") }
    }

    /// A store written before cases had place columns (and before migrations were recorded) gets
    /// them, filled for its open cases, so that the merge check (a box lookup on them) still finds
    /// the case; east–west neighbours merge too.
    @Test func aStoreFromBeforeThePlaceColumnsStillMerges() async throws {
        let path = TemporaryFiles.store("dispatcher")
        let gate = GeoPoint(latitude: 30.2, longitude: 120.15)
        try await Fixture(path: path).report("inc-1", at: gate)
        let old = try SQLiteConnection(path: path)
        try old.execute(
            "DROP INDEX cases_place; ALTER TABLE cases DROP COLUMN latitude; ALTER TABLE cases DROP COLUMN longitude; DROP TABLE gridbus_migrations;"
        )
        let fixture = try await Fixture(path: path)
        try await fixture.report("inc-2", at: GeoPoint(latitude: 30.2, longitude: 120.1504))  // 38 m east
        #expect(try await fixture.dispatcher.get("inc-2")?.state == .merged)
        try await fixture.report("inc-3", at: GeoPoint(latitude: 30.2, longitude: 120.1507))  // 67 m east
        #expect(try await fixture.dispatcher.get("inc-3")?.state == .dispatched)
    }

    /// The merge check reads the cases near the point through the place index, not every open case of
    /// the category in the merge window (SQLite's own choice, which made each report slower than the last).
    @Test func theMergeCheckReadsOnlyTheNeighbourhood() async throws {
        let path = TemporaryFiles.store("dispatcher")
        let fixture = try await Fixture(path: path)
        for number in 0..<20 { try await fixture.report("inc-\(number)", at: GeoPoint(latitude: 30.2 + Double(number) * 0.01, longitude: 120.15)) }
        let connection = try SQLiteConnection(path: path)
        let details = try connection.queryPlan(DispatcherStore.nearbySQL(.sqlite))
        #expect(details.contains { $0.contains("USING INDEX cases_place (category=? AND latitude>? AND latitude<?)") }, "\(details)")
    }

    /// A community in emergency mode: everyone on the grid's roster, urgent limits on natural time,
    /// reminders every minute; back to normal, new incidents follow the normal policy.
    @Test(arguments: StoreEngine.allCases) func emergencyModeAndBack(engine: StoreEngine) async throws {
        let fixture = try await Fixture(engine: engine)
        guard
            case .success(let change) = try await fixture.dispatcher.setMode(
                scope: .community,
                target: "C-01-01",
                mode: .emergency,
                by: "ops",
                reason: "typhoon"
            )
        else {
            Issue.record("the switch was refused")
            return
        }
        #expect(change.note.contains("open cases keep"))
        try await fixture.report("inc-1")
        let roster = Set(DispatcherTests.district.members(of: "G-01-01-01").map(\.id))
        let item = try #require(try await fixture.dispatcher.get("inc-1"))
        #expect(item.emergency && Set(item.assignees) == roster)
        #expect(item.deadline == DispatcherTests.morning.addingTimeInterval(3600))  // E-01-02's urgent limit, 1 h
        #expect(item.acknowledgeBy == DispatcherTests.morning.addingTimeInterval(5 * 60))
        // One member returns it: it stays with the rest of the roster (not with nobody).
        let returner = item.assignees[0]
        guard
            case .done(let returned) = try await fixture.dispatcher.act(
                "inc-1",
                .returnAsWronglyDispatched,
                ActionInput(by: returner, reason: "not mine")
            )
        else {
            Issue.record("the return was refused")
            return
        }
        #expect(returned.state == .dispatched && Set(returned.assignees) == roster.subtracting([returner]))
        fixture.clock.advance(5 * 60)
        #expect(try await fixture.dispatcher.sweep() == 1)
        #expect(try await fixture.dispatcher.get("inc-1")?.timerAt == fixture.clock.now.addingTimeInterval(60))

        _ = try await fixture.dispatcher.setMode(scope: .community, target: "C-01-01", mode: .normal, by: "ops", reason: nil)
        try await fixture.report("inc-2")
        let normal = try #require(try await fixture.dispatcher.get("inc-2"))
        #expect(!normal.emergency && normal.assignees.count == 1)
        let modes = try await fixture.published().filter { $0.type == "grid.mode.changed" }.map { $0.data["mode"] }
        #expect(modes == [.string("emergency"), .string("normal")])
        guard
            case .failure(let problem) = try await fixture.dispatcher.setMode(scope: .town, target: "T-99", mode: .emergency, by: "ops", reason: nil)
        else {
            Issue.record("an unknown town was accepted")
            return
        }
        #expect(problem.field == "target")
    }

    /// A micro-wish is an open task: the first volunteer of the grid to claim it gets it, a later
    /// claim gets 409, and closing it awards points on incident.closed.
    @Test(arguments: StoreEngine.allCases) func microWishesAreClaimedOnceAndEarnPoints(engine: StoreEngine) async throws {
        let fixture = try await Fixture(engine: engine)
        try await fixture.report("wish-1", category: "G-04-01")
        let task = try #require(try await fixture.dispatcher.get("wish-1"))
        #expect(task.state == .registered && task.assignees.isEmpty && task.role == "volunteer")
        let volunteers = DispatcherTests.district.members(of: "G-01-01-01").filter { $0.role == .residentMember }.map(\.id)
        let worker = try #require(DispatcherTests.district.members(of: "G-01-01-01").first { $0.role == .gridWorker }?.id)
        guard case .invalid(let error) = try await fixture.dispatcher.act("wish-1", .claim, ActionInput(by: worker)) else {
            Issue.record("a grid worker claimed a volunteer task")
            return
        }
        #expect(error.field == "by")
        guard case .done(let claimed) = try await fixture.dispatcher.act("wish-1", .claim, ActionInput(by: volunteers[0])) else {
            Issue.record("the first claim was refused")
            return
        }
        #expect(claimed.state == .acknowledged && claimed.assignees == [volunteers[0]])
        guard case .illegal = try await fixture.dispatcher.act("wish-1", .claim, ActionInput(by: volunteers.last!)) else {
            Issue.record("a second claim was accepted")
            return
        }
        for (action, input) in [
            (CaseAction.start, ActionInput(by: volunteers[0])), (.handle, ActionInput(by: volunteers[0], note: "groceries delivered")),
            (.verifyPass, ActionInput(by: "c")), (.close, ActionInput(by: "c")),
        ] {
            guard case .done = try await fixture.dispatcher.act("wish-1", action, input) else {
                Issue.record("\(action) refused")
                return
            }
        }
        let events = try await fixture.published()
        #expect(
            events.map(\.type) == [
                "incident.registered", "incident.dispatched", "incident.dispatched", "incident.started", "incident.handled", "incident.verified",
                "incident.closed",
            ]
        )
        #expect(events[1].data["policy"] == .string("open-task") && events[2].data["policy"] == .string("claimed"))
        #expect(events.last?.data["points"] == .object([volunteers[0]: .integer(10)]))
    }

    /// Volunteers racing for one task: exactly one claim wins.
    @Test(arguments: StoreEngine.allCases) func aClaimRaceHasOneWinner(engine: StoreEngine) async throws {
        let fixture = try await Fixture(engine: engine)
        try await fixture.report("wish-1", category: "G-04-01")
        let volunteers = DispatcherTests.district.members(of: "G-01-01-01").filter { [.residentMember, .partTimeMember].contains($0.role) }.map(\.id)
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for round in 0..<20 {
                let volunteer = volunteers[round % volunteers.count]
                group.addTask {
                    if case .done = try await fixture.dispatcher.act("wish-1", .claim, ActionInput(by: volunteer)) { return true }
                    return false
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try await fixture.published().filter { $0.data["policy"] == .string("claimed") }.count == 1)
    }

    @Test(arguments: StoreEngine.allCases) func unknownCategoriesAreRejectedAndReportsWithoutAGridWaitForTriage(engine: StoreEngine) async throws {
        let fixture = try await Fixture(engine: engine)
        try await fixture.report("inc-1", category: "Z-99-99")
        try await fixture.report("inc-2", grid: nil)
        #expect(try await fixture.published().map(\.type) == ["incident.rejected"])
        #expect(try await fixture.dispatcher.get("inc-2")?.triage == true)
        // An operator places it: registered and dispatched like any report.
        guard case .invalid(let error) = try await fixture.dispatcher.act("inc-2", .place, ActionInput(by: "ops", grid: "G-404")) else {
            Issue.record("an unknown grid was accepted")
            return
        }
        #expect(error.field == "grid")
        guard case .done(let placed) = try await fixture.dispatcher.act("inc-2", .place, ActionInput(by: "ops", grid: "G-01-01-01")) else {
            Issue.record("placing was refused")
            return
        }
        #expect(placed.state == .dispatched && placed.grid == "G-01-01-01" && !placed.triage)
        #expect(try await fixture.published().map(\.type) == ["incident.rejected", "incident.registered", "incident.dispatched"])
    }

    /// No acknowledgement: escalated to the grid chief at the limit, reminded at the interval; then
    /// acknowledged but not handled by the deadline: overdue and escalated further.
    @Test(arguments: StoreEngine.allCases) func escalationRemindersAndOverdueFollowTheClock(engine: StoreEngine) async throws {
        let fixture = try await Fixture(engine: engine)
        try await fixture.report("inc-1")
        #expect(try await fixture.dispatcher.sweep() == 0)
        fixture.clock.advance(29 * 60)
        #expect(try await fixture.dispatcher.sweep() == 0)  // not yet
        fixture.clock.advance(60)
        #expect(try await fixture.dispatcher.sweep() == 1)
        fixture.clock.advance(15 * 60)
        #expect(try await fixture.dispatcher.sweep() == 1)  // the reminder, one level up
        var events = try await fixture.published()
        #expect(events.map(\.type) == ["incident.registered", "incident.dispatched", "incident.escalated", "incident.escalated"])
        #expect(events[2].data["level"] == .string("grid-chief") && events[3].data["level"] == .string("instructor"))
        #expect(events[3].data["reason"]?.stringValue?.hasPrefix("reminder") == true)

        let assignee = try #require(try await fixture.dispatcher.get("inc-1")?.assignees.first)
        guard case .done = try await fixture.dispatcher.act("inc-1", .acknowledge, ActionInput(by: assignee)) else {
            Issue.record("acknowledge refused")
            return
        }
        fixture.clock.advance(2 * 3600)  // past the 2 h deadline
        #expect(try await fixture.dispatcher.sweep() == 1)
        events = try await fixture.published()
        #expect(events.suffix(3).map(\.type) == ["incident.acknowledged", "incident.overdue", "incident.escalated"])
        #expect(events.last?.data["to"] == .array([.string("community:C-01-01")]))
    }

    /// Timers live in the store: a dispatcher started again on the same file fires a due timer once.
    @Test(arguments: StoreEngine.allCases) func aRestartResumesTimersExactlyOnce(engine: StoreEngine) async throws {
        let path = TemporaryFiles.store("dispatcher")
        let clock = Clock(DispatcherTests.morning)
        let first = try await Fixture(engine: engine, path: path, clock: clock)
        try await first.report("inc-1")
        clock.advance(31 * 60)
        let second = try await Fixture(engine: engine, path: path, clock: clock)
        #expect(try await second.dispatcher.sweep() == 1)
        #expect(try await second.dispatcher.sweep() == 0)
        #expect(try await second.published().filter { $0.type == "incident.escalated" }.count == 1)
    }

    /// A request key is remembered for `requests.idempotency-window`, then forgotten: a retry that
    /// late is a new request, which the lifecycle judges from the case as it is.
    @Test(arguments: StoreEngine.allCases) func requestKeysAreForgottenAfterTheIdempotencyWindow(engine: StoreEngine) async throws {
        let fixture = try await Fixture(engine: engine)
        try await fixture.report("inc-1")
        let input = ActionInput(by: "m-1")
        _ = try await fixture.dispatcher.act("inc-1", .acknowledge, input, requestKey: "k1")
        fixture.clock.advance(3600)
        _ = try await fixture.dispatcher.act("inc-1", .start, input, requestKey: "k2")
        let retention = fixture.dispatcher.requestKeyRetention(window: 5400)
        #expect(try await retention.pass() == 0)

        // 10:00 + 90 min and a second: k1 (10:00) is past the window, k2 (11:00) is not.
        fixture.clock.advance(1801)
        #expect(try await retention.pass() == 1)
        guard case .done(let retried) = try await fixture.dispatcher.act("inc-1", .start, input, requestKey: "k2") else {
            Issue.record("a retry within the window was not answered with the case")
            return
        }
        #expect(retried.state == .inProgress)
        guard case .illegal = try await fixture.dispatcher.act("inc-1", .acknowledge, input, requestKey: "k1") else {
            Issue.record("a key past the window was still remembered")
            return
        }
        #expect(try await fixture.published().filter { $0.type == "incident.started" }.count == 1)
    }

    @Test(arguments: StoreEngine.allCases) func retriedRequestsAndIllegalActions(engine: StoreEngine) async throws {
        let fixture = try await Fixture(engine: engine)
        try await fixture.report("inc-1")
        let input = ActionInput(by: "m-1")
        _ = try await fixture.dispatcher.act("inc-1", .acknowledge, input, requestKey: "k1")
        guard case .done(let again) = try await fixture.dispatcher.act("inc-1", .acknowledge, input, requestKey: "k1") else {
            Issue.record("a retried request was refused")
            return
        }
        #expect(again.state == .acknowledged)
        #expect(try await fixture.published().filter { $0.type == "incident.acknowledged" }.count == 1)
        guard case .illegal(let illegal) = try await fixture.dispatcher.act("inc-1", .close, input) else {
            Issue.record("close was allowed after acknowledge")
            return
        }
        #expect(Set(illegal.allowed) == [.start, .returnAsWronglyDispatched, .extend, .suspend])
    }
}
