import Foundation
import GridBusClient
import GridBusTestSupport
import GridDistrict
import GridSchema
import GridStats
import GridStore
import Logging
import Testing

/// A scripted day and a half of a district, with every indicator computed by hand (comments give
/// the arithmetic), including the awkward cases: a returned, a reworked, a reopened, an extended and
/// a suspended case, a claimed micro-wish, a rejection, a merge, and an empty day.
@Suite struct StatisticsTests {
    static let district = try! District.load(
        directory: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/sample").path
    )
    /// Wednesday 2026-11-25 10:00 in China.
    static let t0 = Date(timeIntervalSince1970: 1_795_572_000)
    static let grid = "G-01-01-01"  // community C-01-01, town T-01
    static let otherGrid = district.grids.first { $0.town != "T-01" }!

    /// The events, in journal order.
    static func script() throws -> [[UInt8]] {
        var events: [[UInt8]] = []
        var counter = 0
        var steps: [String: Int] = [:]
        func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }
        func add<P: EventPayload>(
            _ payload: P,
            _ seconds: Double,
            case id: String? = nil,
            grid: String? = StatisticsTests.grid,
            source: String = "grid-dispatcher"
        ) throws {
            counter += 1
            // The dispatcher numbers a case's events: <incident>-1, -2, …
            var eventID = "e-\(counter)"
            if source == "grid-dispatcher", let id {
                steps[id, default: 0] += 1
                eventID = "\(id)-\(steps[id]!)"
            }
            events.append(try CloudEvent(id: eventID, source: source, payload: payload, subject: id, grid: grid, time: at(seconds)).jsonBytes())
        }
        func report(_ id: String, _ seconds: Double, grid: String = StatisticsTests.grid, category: String = "E-01-02") throws {
            try add(
                IncidentReported(incidentId: id, category: category, description: "d", channel: .app, reportedAt: at(seconds), grid: grid),
                seconds,
                case: id,
                grid: grid,
                source: "grid-intake"
            )
        }
        func register(
            _ id: String,
            _ seconds: Double,
            deadline: Double = 7200,
            grid: String = StatisticsTests.grid,
            category: String = "E-01-02"
        ) throws {
            try add(
                IncidentRegistered(incidentId: id, category: category, grid: grid, priority: .normal, deadline: at(deadline)),
                seconds,
                case: id,
                grid: grid
            )
        }
        func dispatch(
            _ id: String,
            _ seconds: Double,
            to member: String = "m-00001",
            policy: String = "least-load",
            grid: String = StatisticsTests.grid
        ) throws {
            try add(
                IncidentDispatched(
                    incidentId: id,
                    assignees: member.isEmpty ? [] : [member],
                    role: "grid-worker",
                    acknowledgeBy: at(seconds + 1800),
                    deadline: at(7200),
                    policy: policy
                ),
                seconds,
                case: id,
                grid: grid
            )
        }
        // inc-1: dispatched 60 s after registration (timely), acknowledged after 300 s, handled at
        // 3,540 s (on time), verified, closed on time.
        try report("inc-1", 0)
        try register("inc-1", 60)
        try dispatch("inc-1", 120)
        try add(IncidentAcknowledged(incidentId: "inc-1", by: "m-00001"), 420, case: "inc-1")
        try add(IncidentStarted(incidentId: "inc-1", by: "m-00001"), 500, case: "inc-1")
        try add(IncidentHandled(incidentId: "inc-1", by: "m-00001", note: "done"), 3600, case: "inc-1")
        try add(IncidentVerified(incidentId: "inc-1", by: "c", passed: true), 3700, case: "inc-1")
        try add(IncidentClosed(incidentId: "inc-1", by: "c", onTime: true), 3800, case: "inc-1")
        // inc-2: dispatched 840 s after registration (late), returned and dispatched again,
        // acknowledged 600 s after the first dispatch, handled at 9,940 s (late), reworked, closed late.
        try report("inc-2", 0)
        try register("inc-2", 60)
        try dispatch("inc-2", 900, to: "m-00028")
        try add(IncidentReturned(incidentId: "inc-2", by: "m-00028", reason: "not mine"), 1000, case: "inc-2")
        try dispatch("inc-2", 1000)
        try add(IncidentAcknowledged(incidentId: "inc-2", by: "m-00001"), 1500, case: "inc-2")
        try add(IncidentSuspended(incidentId: "inc-2", by: "m-00001"), 1600, case: "inc-2")
        try add(IncidentResumed(incidentId: "inc-2", by: "m-00001"), 1700, case: "inc-2")
        try add(IncidentHandled(incidentId: "inc-2", by: "m-00001", note: "done"), 10_000, case: "inc-2")
        try add(IncidentVerified(incidentId: "inc-2", by: "c", passed: false), 10_100, case: "inc-2")
        try add(IncidentHandled(incidentId: "inc-2", by: "m-00001", note: "again"), 10_200, case: "inc-2")
        try add(IncidentVerified(incidentId: "inc-2", by: "c", passed: true), 10_300, case: "inc-2")
        try add(IncidentClosed(incidentId: "inc-2", by: "c", onTime: false), 10_400, case: "inc-2")
        // inc-3: dispatched 120 s after registration, never acknowledged: escalated twice, overdue, open.
        try report("inc-3", 0)
        try register("inc-3", 60)
        try dispatch("inc-3", 180)
        try add(IncidentEscalated(incidentId: "inc-3", level: "grid-chief", to: ["m-00028"], reason: "late"), 2000, case: "inc-3")
        try add(IncidentEscalated(incidentId: "inc-3", level: "instructor", to: ["m-00029"], reason: "late"), 3000, case: "inc-3")
        try add(IncidentOverdue(incidentId: "inc-3", stage: "handle", deadline: at(7200)), 7200, case: "inc-3")
        // inc-4 rejected, inc-5 merged into inc-1.
        try report("inc-4", 0, category: "Z-99-99")
        try add(IncidentRejected(incidentId: "inc-4", reason: .invalid), 10, case: "inc-4")
        try report("inc-5", 0)
        try add(IncidentMerged(incidentId: "inc-5", caseId: "inc-1"), 10, case: "inc-5")
        // wish-1: an open task (not a dispatch), claimed 240 s after registration (a timely dispatch,
        // acknowledged at once), handled at 940 s with a deadline extended to a day, closed with points.
        try report("wish-1", 0, category: "G-04-01")
        try register("wish-1", 60, deadline: 3600, category: "G-04-01")
        try dispatch("wish-1", 60, to: "", policy: "open-task")
        try dispatch("wish-1", 300, to: "m-00002", policy: "claimed")
        try add(IncidentExtended(incidentId: "wish-1", by: "m-00002", deadline: at(86_400), reason: "more time"), 400, case: "wish-1")
        try add(IncidentHandled(incidentId: "wish-1", by: "m-00002", note: "done"), 1000, case: "wish-1")
        try add(IncidentVerified(incidentId: "wish-1", by: "c", passed: true), 1100, case: "wish-1")
        try add(IncidentClosed(incidentId: "wish-1", by: "c", onTime: true, points: ["m-00002": 10]), 1200, case: "wish-1")
        // Notifications on day one: three sent, one failed.
        for (index, sent) in [true, true, true, false].enumerated() {
            if sent {
                try add(
                    NotificationSent(
                        notificationId: "n-\(index)",
                        incidentId: "inc-1",
                        recipient: "m-00001",
                        channel: "sms",
                        attempts: 1,
                        latencyMs: 10
                    ),
                    200,
                    source: "grid-notifier"
                )
            } else {
                try add(
                    NotificationFailed(
                        notificationId: "n-\(index)",
                        incidentId: "inc-1",
                        recipient: "m-00001",
                        channel: "webhook",
                        attempts: 3,
                        reason: "400"
                    ),
                    200,
                    source: "grid-notifier"
                )
            }
        }
        // Emergency mode in C-01-01 for an hour.
        try add(GridModeChanged(scope: .community, target: "C-01-01", mode: .emergency, by: "ops"), 100, grid: nil)
        try add(GridModeChanged(scope: .community, target: "C-01-01", mode: .normal, by: "ops"), 3700, grid: nil)
        // Day two, another town: inc-6 dispatched after 60 s, acknowledged after 60 s, handled at
        // 1,200 s, closed, then reopened (so not closed any more).
        let other = otherGrid.id
        try report("inc-6", 86_400, grid: other)
        try register("inc-6", 86_400, deadline: 86_400 + 7200, grid: other)
        try dispatch("inc-6", 86_460, to: "m-00001", grid: other)
        try add(IncidentAcknowledged(incidentId: "inc-6", by: "m-00001"), 86_520, case: "inc-6", grid: other)
        try add(IncidentHandled(incidentId: "inc-6", by: "m-00001", note: "done"), 87_600, case: "inc-6", grid: other)
        try add(IncidentVerified(incidentId: "inc-6", by: "c", passed: true), 87_700, case: "inc-6", grid: other)
        try add(IncidentClosed(incidentId: "inc-6", by: "c", onTime: true), 87_800, case: "inc-6", grid: other)
        try add(IncidentReopened(incidentId: "inc-6", by: "c", reason: "not fixed"), 88_000, case: "inc-6", grid: other)
        return events
    }

    static func statistics(engine: StoreEngine = .sqlite, path: String? = nil) async throws -> (Statistics, WorkerStore) {
        let runtime = try offlineRuntime("grid-stats", migrations: Statistics.migrations, path: path, engine: engine)
        let store = runtime.store
        // "Now" is day two, 11:00: inc-3 is past its deadline; inc-6's deadline (12:00) is not yet.
        let statistics = Statistics(
            district: district,
            settings: Statistics.Settings(),
            runtime: runtime,
            logger: Logger(label: "test"),
            now: { t0.addingTimeInterval(90_000) }
        )
        return (statistics, store)
    }

    static func ingested(engine: StoreEngine = .sqlite, batch: Int) async throws -> (Statistics, WorkerStore) {
        let (statistics, store) = try await statistics(engine: engine)
        let events = try script()
        for start in stride(from: 0, to: events.count, by: batch) {
            try await statistics.ingest(Array(events[start..<min(start + batch, events.count)]))
        }
        return (statistics, store)
    }

    func only(_ result: Result<[IndicatorRow], FieldError>) throws -> [IndicatorRow] {
        switch result {
        case .success(let rows): return rows
        case .failure(let problem): throw Failure("\(problem.field): \(problem.reason)")
        }
    }

    @Test(arguments: StoreEngine.allCases) func everyIndicatorOfDayOneByHand(engine: StoreEngine) async throws {
        let (statistics, _) = try await Self.ingested(engine: engine, batch: 7)
        let row = try #require(try only(await statistics.indicators(IndicatorQuery(from: "2026-11-25", to: "2026-11-25"))).first)
        #expect(row.reports == 6)  // inc-1…5, wish-1
        #expect(row.registered == 4)  // inc-1, inc-2, inc-3, wish-1
        #expect(row.rejected == 1 && row.merged == 1)
        #expect(row.dispatched == 4)  // the open task is not a dispatch; its claim is
        #expect(row.timelyDispatchRate == 0.75)  // inc-1 60 s, inc-3 120 s, wish-1 240 s; inc-2 840 s > 600 s
        #expect(row.accurateDispatchRate == 0.75)  // inc-2 was returned
        #expect(row.acknowledged == 3 && row.acknowledgeMeanSeconds == 300)  // (300 + 600 + 0) / 3
        #expect(row.acknowledgeP90Seconds == 660)  // rank ⌈2.7⌉ = 3: 600 s, in the minute bucket [600, 660)
        #expect(row.handled == 3)
        #expect(abs((row.handleMeanSeconds ?? 0) - 14_420.0 / 3) < 1e-9)  // (3,540 + 9,940 + 940) / 3
        #expect(row.handleP90Seconds == 9_960)  // 9,940 s, in the bucket [9,900, 9,960)
        #expect(row.onTimeHandlingRate == 2.0 / 3)  // inc-2 was handled after its deadline; wish-1's was extended
        #expect(row.closed == 3 && row.closureRate == 0.75 && row.onTimeClosureRate == 2.0 / 3)
        #expect(row.reworkRate == 1.0 / 3)
        #expect(row.escalations == 2 && row.becameOverdue == 1 && row.reopened == 0)
        #expect(row.overdueOpen == 1)  // inc-3, now
        #expect(row.notificationsSent == 3 && row.notificationsFailed == 1 && row.notificationSuccessRate == 0.75)
    }

    @Test(arguments: StoreEngine.allCases) func groupingsFiltersAndAnEmptyDay(engine: StoreEngine) async throws {
        let (statistics, _) = try await Self.ingested(engine: engine, batch: 1000)
        let byDay = try only(await statistics.indicators(IndicatorQuery(from: "2026-11-24", to: "2026-11-26", by: .day)))
        #expect(byDay.map(\.key) == ["2026-11-25", "2026-11-26"])  // the empty day has no row
        let two = try #require(byDay.last)
        #expect(two.reports == 1 && two.registered == 1 && two.timelyDispatchRate == 1 && two.acknowledgeMeanSeconds == 60)
        #expect(two.handleMeanSeconds == 1200 && two.closed == 0 && two.closureRate == 0 && two.onTimeClosureRate == nil && two.reopened == 1)
        let byTown = try only(await statistics.indicators(IndicatorQuery(from: "2026-11-25", to: "2026-11-26", by: .town)))
        #expect(byTown.map(\.key) == ["T-01", Self.otherGrid.town].sorted())
        #expect(byTown.first { $0.key == "T-01" }?.registered == 4 && byTown.first { $0.key == Self.otherGrid.town }?.registered == 1)
        var volunteers = IndicatorQuery(from: "2026-11-25", to: "2026-11-26", by: .category)
        volunteers.category = "G-04"
        #expect(try only(await statistics.indicators(volunteers)).map(\.key) == ["G-04-01"])
        // Each level of the roll-ups gives the same answer: by grid (grid level), by grid within a
        // category (the finest), by town (town and category level).
        var rubbish = IndicatorQuery(from: "2026-11-25", to: "2026-11-26", by: .grid)
        let byGrid = try only(await statistics.indicators(rubbish))
        rubbish.category = "E-01-02"
        let byGridRubbish = try #require(try only(await statistics.indicators(rubbish)).first { $0.key == Self.grid })
        #expect(byGrid.first { $0.key == Self.grid }?.registered == 3 + 1 && byGridRubbish.registered == 3)  // wish-1 is G-04-01
        #expect(byGridRubbish.acknowledgeP90Seconds == 660 && byGridRubbish.handleP90Seconds == 9_960)
        var community = IndicatorQuery(from: "2026-11-25", to: "2026-11-25", by: .community)
        community.category = "E-01"
        #expect(try only(await statistics.indicators(community)).map(\.registered) == [3])
        let byMember = try only(await statistics.indicators(IndicatorQuery(from: "2026-11-25", to: "2026-11-26", by: .member)))
        // First assignees: m-00001 for inc-1, inc-3 and inc-6; m-00028 for inc-2; m-00002 for wish-1.
        #expect(Dictionary(uniqueKeysWithValues: byMember.map { ($0.key, $0.dispatched) }) == ["m-00001": 3, "m-00028": 1, "m-00002": 1])
        #expect(byMember.first { $0.key == "m-00028" }?.accurateDispatchRate == 0)
        guard case .failure(let problem) = try await statistics.indicators(IndicatorQuery(from: "2026-11-31", to: "2026-12-01")) else {
            Issue.record("a day that does not exist was accepted")
            return
        }
        #expect(problem.field == "from")
    }

    @Test(arguments: StoreEngine.allCases) func rankingsLeaveOutSmallSamples(engine: StoreEngine) async throws {
        let (statistics, _) = try await Self.ingested(engine: engine, batch: 1000)
        var query = IndicatorQuery(from: "2026-11-25", to: "2026-11-26", by: .town)
        guard case .success(let ranked) = try await statistics.ranking(query, indicator: "closureRate", minimumSample: 2, descending: true) else {
            Issue.record("ranking failed")
            return
        }
        #expect(ranked.map(\.key) == ["T-01"] && ranked[0].value == 0.75 && ranked[0].sample == 4)  // the other town has 1 registered case
        query.by = .grid
        guard case .failure(let problem) = try await statistics.ranking(query, indicator: "happiness", minimumSample: nil, descending: true) else {
            Issue.record("an unknown indicator was accepted")
            return
        }
        #expect(problem.field == "indicator")
    }

    @Test(arguments: StoreEngine.allCases) func pointsAndEmergencyPeriods(engine: StoreEngine) async throws {
        let (statistics, _) = try await Self.ingested(engine: engine, batch: 5)
        let (totals, history) = try await statistics.points(member: "m-00002")
        #expect(totals.map(\.points) == [10] && totals[0].tasks == 1 && history.map(\.incident) == ["wish-1"])
        let periods = try await statistics.emergencies()
        #expect(periods.count == 1 && periods[0].place == "community:C-01-01" && periods[0].seconds == 3600 && periods[0].endedAt != nil)
        #expect(try await statistics.emergencies(from: "2026-11-26", to: "2026-11-26").isEmpty)
    }

    /// The same events in batches of 1, 7 and all at once, and all of them twice: the same tables.
    @Test(arguments: StoreEngine.allCases) func theNumbersDoNotDependOnBatchesOrRedelivery(engine: StoreEngine) async throws {
        let (_, single) = try await Self.ingested(engine: engine, batch: 1)
        let reference = try await single.read { try StatsSnapshot.read($0) }
        for batch in [7, 1000] {
            let (_, store) = try await Self.ingested(engine: engine, batch: batch)
            let snapshot = try await store.read { try StatsSnapshot.read($0) }
            #expect(StatsSnapshot.differences(live: reference, rebuilt: snapshot) == [], "batch \(batch)")
        }
        let (twice, store) = try await Self.statistics(engine: engine)
        let events = try Self.script()
        try await twice.ingest(events)
        try await twice.ingest(events)
        #expect(StatsSnapshot.differences(live: reference, rebuilt: try await store.read { try StatsSnapshot.read($0) }) == [])
        // The comparison can fail: without the last event (the reopening) the tables differ.
        let (short, shortStore) = try await Self.statistics(engine: engine)
        try await short.ingest(Array(events.dropLast()))
        #expect(!StatsSnapshot.differences(live: reference, rebuilt: try await shortStore.read { try StatsSnapshot.read($0) }).isEmpty)
    }

    /// The bus keeps each event once but not always in the order it was published (a publish
    /// retried after a NACK may be journaled after a later one): each case's dispatcher events in
    /// reverse order, one per batch, give the same tables; a missing step holds the later ones back.
    @Test(arguments: StoreEngine.allCases) func aCaseFoldsItsStepsInOrderWhateverOrderTheyArriveIn(engine: StoreEngine) async throws {
        let events = try Self.script()
        let (_, reference) = try await Self.ingested(engine: engine, batch: 1)
        let expected = try await reference.read { try StatsSnapshot.read($0) }
        var positions: [String: [Int]] = [:]
        for (index, bytes) in events.enumerated() {
            let event = try CloudEvent.decode(bytes)
            if event.source == "grid-dispatcher", let subject = event.subject { positions[subject, default: []].append(index) }
        }
        var shuffled = events
        for indices in positions.values { for (to, from) in zip(indices, indices.reversed()) { shuffled[to] = events[from] } }
        #expect(shuffled != events)
        let (statistics, store) = try await Self.statistics(engine: engine)
        for event in shuffled { try await statistics.ingest([event]) }
        #expect(StatsSnapshot.differences(live: expected, rebuilt: try await store.read { try StatsSnapshot.read($0) }) == [])
        // Without inc-1's second step, its later steps wait: it stays reported, not closed.
        let (gap, gapStore) = try await Self.statistics(engine: engine)
        try await gap.ingest(events.filter { (try? CloudEvent.decode($0).id) != "inc-1-2" })
        let body = try await gapStore.read { connection -> [UInt8] in
            let statement = try connection.prepare("SELECT body FROM cases WHERE id = 'inc-1'")
            return try statement.step() ? statement.blob(0) : []
        }
        let record = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] ?? [:]
        #expect(record["state"] as? String == "registered" && record["step"] as? Int == 1)
        #expect((record["held"] as? [Any])?.count == 5)  // steps 3 to 7
    }

    /// A store folded before the step was kept: its records know their steps only by the event ids
    /// they applied, and the next step still applies.
    /// SQLite only: a store from before steps never existed on PostgreSQL.
    @Test func aRecordFromBeforeStepsTakesItsNextStep() async throws {
        let events = try Self.script()
        let (_, reference) = try await Self.ingested(batch: 1)
        let expected = try await reference.read { try StatsSnapshot.read($0) }
        let (statistics, store) = try await Self.statistics()
        let cut = try #require(events.firstIndex { (try? CloudEvent.decode($0).id) == "inc-1-4" })
        try await statistics.ingest(Array(events[..<cut]))
        try await store.write { connection, _ in
            try connection.execute("UPDATE cases SET body = CAST(json_remove(CAST(body AS TEXT), '$.step') AS BLOB)")
        }
        try await statistics.ingest(Array(events[cut...]))
        #expect(StatsSnapshot.differences(live: expected, rebuilt: try await store.read { try StatsSnapshot.read($0) }) == [])
    }

    /// Times finer than a millisecond (other producers send microseconds) give the same numbers
    /// whether a case is reloaded from the store between its events or not.
    @Test(arguments: StoreEngine.allCases) func subMillisecondTimesDoNotDependOnBatches(engine: StoreEngine) async throws {
        func event<P: EventPayload>(_ payload: P, _ seconds: Double, _ id: Int) throws -> [UInt8] {
            try CloudEvent(
                id: "u-\(id)",
                source: "grid-dispatcher",
                payload: payload,
                subject: "inc-u",
                grid: Self.grid,
                time: Self.t0.addingTimeInterval(seconds)
            )
            .jsonBytes()
        }
        let events = [
            try event(
                IncidentRegistered(
                    incidentId: "inc-u",
                    category: "E-01-02",
                    grid: Self.grid,
                    priority: .normal,
                    deadline: Self.t0.addingTimeInterval(99.9996)
                ),
                0,
                1
            ),
            try event(
                IncidentDispatched(incidentId: "inc-u", assignees: ["m-00001"], role: "grid-worker", acknowledgeBy: Self.t0, deadline: Self.t0),
                0.0006,
                2
            ),
            // 60.0002 s after the dispatch, or 59.9998 s after it rounded:
            try event(IncidentAcknowledged(incidentId: "inc-u", by: "m-00001"), 60.0008, 3),
            try event(IncidentHandled(incidentId: "inc-u", by: "m-00001", note: "n"), 99.9998, 4),
        ]
        var snapshots: [StatsSnapshot] = []
        for batch in [1, 4] {
            let (statistics, store) = try await Self.statistics(engine: engine)
            for start in stride(from: 0, to: events.count, by: batch) { try await statistics.ingest(Array(events[start..<start + batch])) }
            snapshots.append(try await store.read { try StatsSnapshot.read($0) })
        }
        #expect(StatsSnapshot.differences(live: snapshots[0], rebuilt: snapshots[1]) == [])
    }

    @Test(arguments: StoreEngine.allCases) func metricsAreProportionedAndLabelledByTown(engine: StoreEngine) async throws {
        let (statistics, _) = try await Self.ingested(engine: engine, batch: 1000)
        let text = try await statistics.metricsText()
        #expect(text.contains("gridbus_stats_reports_total{town=\"T-01\"} 6\n"))  // day one's six, all in G-01-01-01
        #expect(text.contains("gridbus_stats_overdue_open_cases{town=\"T-01\"} 1\n"))
        #expect(text.contains("gridbus_stats_notifications_total{channel=\"webhook\",outcome=\"failed\"} 1\n"))
        #expect(!text.contains("inc-") && !text.contains("m-000") && !text.contains("G-01"))  // no per-incident, member or grid labels
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
