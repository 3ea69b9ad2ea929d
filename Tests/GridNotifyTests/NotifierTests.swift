import Foundation
import GridBusClient
import GridBusTestSupport
import GridConfiguration
import GridDistrict
import GridJSON
import GridSchema
import GridStore
import Logging
import Synchronization
import Testing
import ZeroMQ

@testable import GridNotify

/// A channel that keeps what it is given and answers as the test scripts it.
final class RecordingChannel: NotificationChannel {
    let name: String
    let contact: ContactKind
    let style: MessageStyle
    let concurrency = 4
    private let state = Mutex<(envelopes: [Envelope], script: [DeliveryOutcome], held: Bool)>(([], [], false))

    init(_ name: String, contact: ContactKind, style: MessageStyle = .short) {
        self.name = name
        self.contact = contact
        self.style = style
    }

    /// Answers for the next deliveries, in order; then every delivery succeeds.
    func script(_ outcomes: [DeliveryOutcome]) { state.withLock { $0.script += outcomes } }
    var envelopes: [Envelope] { state.withLock { $0.envelopes } }
    /// While held, each delivery is recorded and then waits (a gateway that stopped answering).
    func hold(_ held: Bool) { state.withLock { $0.held = held } }

    func deliver(_ envelope: Envelope) async -> DeliveryOutcome {
        let outcome = state.withLock { state in
            state.envelopes.append(envelope)
            return state.script.isEmpty ? .delivered(providerMessageId: "p-\(state.envelopes.count)") : state.script.removeFirst()
        }
        while state.withLock({ $0.held }) { try? await Task.sleep(for: .milliseconds(2)) }
        return outcome
    }
}

@Suite struct NotifierTests {
    typealias Clock = TestClock

    static let district = try! District.load(
        directory: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/sample").path
    )
    /// Wednesday 2026-11-25 10:00 in China.
    static let morning = Date(timeIntervalSince1970: 1_795_572_000)
    static let worker = "m-00001"  // grid worker of G-01-01-01: a phone, no email
    static let resident = "m-00002"
    static let chief = "m-00028"  // grid chief: phone and email

    struct Fixture {
        let notifier: Notifier
        let store: WorkerStore
        let clock: Clock
        let sms = RecordingChannel("sms", contact: .phone)
        let email = RecordingChannel("email", contact: .email, style: .long)

        init(
            engine: StoreEngine = .sqlite,
            rules: NotifierRules = NotifierRules(),
            clock: Clock = Clock(NotifierTests.morning),
            path: String? = nil,
            durable: Bool = false
        ) async throws {
            var rules = rules
            rules.channelOrder = ["sms", "email"]
            let runtime = try offlineRuntime("grid-notifier", migrations: Notifier.migrations, path: path, durable: durable, engine: engine)
            self.store = runtime.store
            self.clock = clock
            notifier = Notifier(
                district: NotifierTests.district,
                rules: rules,
                channels: [sms, email],
                runtime: runtime,
                logger: Logger(label: "test"),
                now: { clock.now },
                jitter: { 0.5 }
            )
            try await notifier.recoverSendsInDoubt()
        }

        /// Hands the notifier one event, as the bus would deliver it; returns the notices it planned to send.
        @discardableResult
        func hear<Payload: EventPayload>(_ payload: Payload, id: String, subject: String? = nil, grid: String? = "G-01-01-01") async throws -> Int {
            let event = try CloudEvent(id: id, source: "grid-dispatcher", payload: payload, subject: subject, grid: grid)
            return try await notifier.handle([BusEvent(sequence: 1, topic: event.topic.description, bytes: try event.jsonBytes())])
        }

        func register(_ id: String, priority: Priority = .normal, grid: String = "G-01-01-01", wantsUpdates: Bool = false) async throws {
            try await hear(
                IncidentReported(
                    incidentId: id,
                    category: "E-01-02",
                    description: "d",
                    priority: priority,
                    channel: .app,
                    reportedAt: clock.now,
                    grid: grid,
                    reporter: Reporter(name: "Li", phone: "13800000000", wantsUpdates: wantsUpdates)
                ),
                id: "r-\(id)",
                grid: grid
            )
            try await hear(
                IncidentRegistered(incidentId: id, category: "E-01-02", grid: grid, priority: priority, deadline: clock.now.addingTimeInterval(7200)),
                id: "\(id)-1",
                subject: id,
                grid: grid
            )
        }

        @discardableResult
        func dispatch(
            _ id: String,
            to assignees: [String] = [NotifierTests.worker],
            eventID: String? = nil,
            grid: String = "G-01-01-01"
        ) async throws -> Int {
            try await hear(
                IncidentDispatched(
                    incidentId: id,
                    assignees: assignees,
                    role: "grid-worker",
                    acknowledgeBy: clock.now.addingTimeInterval(1800),
                    deadline: clock.now.addingTimeInterval(7200),
                    policy: "least-load"
                ),
                id: eventID ?? "\(id)-2",
                subject: id,
                grid: grid
            )
        }

        /// Events the notifier published, by type.
        func published(_ type: EventType) async throws -> [[String: JSONValue]] {
            try await store.pending(after: 0, limit: 10_000).compactMap { row in
                let event = try CloudEvent.decode(row.bytes)
                guard event.type == type.rawValue, case .object(let data)? = event.data else { return nil }
                return data
            }
        }
    }

    @Test(arguments: StoreEngine.allCases) func theAssigneeHearsOnceEvenWhenTheEventComesAgain(engine: StoreEngine) async throws {
        let fixture = try await Fixture(engine: engine)
        try await fixture.register("inc-1")
        // What `handle` returns decides whether the delivery loop is woken: one new notice, then none.
        #expect(try await fixture.dispatch("inc-1") == 1)
        #expect(try await fixture.dispatch("inc-1") == 0)  // redelivered by the bus
        #expect(try await fixture.notifier.deliverDue() == 0)  // the group wait (30 s) has not passed
        fixture.clock.advance(30)
        #expect(try await fixture.notifier.deliverDue() == 1)
        #expect(try await fixture.notifier.deliverDue() == 0)
        let envelope = try #require(fixture.sms.envelopes.first)
        #expect(fixture.sms.envelopes.count == 1 && envelope.recipient.id == NotifierTests.worker && envelope.address == "13159636558")
        #expect(envelope.text.contains("inc-1") && envelope.text.contains("暴露垃圾") && envelope.text.contains("11-25 10:30"))
        let sent = try await fixture.published(.notificationSent)
        #expect(sent.count == 1 && sent[0]["recipient"] == .string(NotifierTests.worker) && sent[0]["channel"] == .string("sms"))
        #expect(sent[0]["latencyMs"] == .integer(30_000))
    }

    /// The first matching route decides unless it says continue: a verification goes to the
    /// assignees and (continue) to the reporter who asked for updates; a closure to the reporter only.
    /// An urgent notice is claimed in the commit that planned it and handed over to be sent: the
    /// delivery loop finds nothing left to claim. A routine one waits for its group wait.
    @Test(arguments: StoreEngine.allCases) func aNoticeDueAtOnceIsClaimedInTheCommitThatPlannedIt(engine: StoreEngine) async throws {
        let fixture = try await Fixture(engine: engine, durable: true)
        /// Commits synced although derived from the bus (`durable: false`), as the notifier's store is.
        func extraSyncs() async throws -> Int64 {
            try await fixture.store.read { try $0.scalar("SELECT COALESCE(MAX(commits), 0) FROM gridbus_sync") }
        }
        func dispatched(_ id: String) throws -> BusEvent {
            let event = try CloudEvent(
                id: "\(id)-2",
                source: "grid-dispatcher",
                payload: IncidentDispatched(
                    incidentId: id,
                    assignees: [NotifierTests.worker],
                    role: "grid-worker",
                    acknowledgeBy: fixture.clock.now.addingTimeInterval(1800),
                    deadline: fixture.clock.now.addingTimeInterval(7200),
                    policy: "least-load"
                ),
                subject: id,
                grid: "G-01-01-01"
            )
            return BusEvent(sequence: 1, topic: event.topic.description, bytes: try event.jsonBytes())
        }
        try await fixture.register("inc-1", priority: .urgent)
        let heard = try await fixture.notifier.handle([try dispatched("inc-1")], claimingUpTo: 4)
        #expect(heard.planned == 1 && heard.claimed.count == 1)
        // What was claimed is on disk before it is sent (on PostgreSQL every commit is the server's).
        if engine == .sqlite { #expect(try await extraSyncs() == 1) }
        let batch = try #require(heard.claimed.first)
        #expect(batch.rows.map(\.recipient.id) == [NotifierTests.worker] && batch.attempt == 1)
        #expect(try await fixture.notifier.log(incident: "inc-1").map(\.status) == ["sending"])
        #expect(try await fixture.notifier.deliverDue() == 0)
        #expect(try await fixture.notifier.deliver(batch) == false)
        #expect(fixture.sms.envelopes.map(\.messageId) == [batch.messageId])
        #expect(try await fixture.published(.notificationSent).count == 1)

        try await fixture.register("inc-2")
        let routine = try await fixture.notifier.handle([try dispatched("inc-2")], claimingUpTo: 4)
        #expect(routine.planned == 1 && routine.claimed.isEmpty)
        if engine == .sqlite { #expect(try await extraSyncs() == 1) }
        try await fixture.register("inc-3", priority: .urgent)
        let noRoom = try await fixture.notifier.handle([try dispatched("inc-3")], claimingUpTo: 0)
        #expect(noRoom.planned == 1 && noRoom.claimed.isEmpty)
        // inc-3 was left for the loop, which sends it with inc-2 (same recipient, within the group wait).
        #expect(try await fixture.notifier.deliverDue() == 1)
        #expect(fixture.sms.envelopes.last?.notifications.map(\.incidentId) == ["inc-3", "inc-2"])
    }

    @Test(arguments: StoreEngine.allCases) func routesMatchInOrderWithContinue(engine: StoreEngine) async throws {
        let fixture = try await Fixture(engine: engine)
        try await fixture.register("inc-1", wantsUpdates: true)
        try await fixture.dispatch("inc-1")
        try await fixture.hear(IncidentVerified(incidentId: "inc-1", by: "c", passed: false), id: "inc-1-5", subject: "inc-1")
        try await fixture.hear(IncidentClosed(incidentId: "inc-1", by: "c", onTime: true), id: "inc-1-6", subject: "inc-1")
        fixture.clock.advance(30)
        try await fixture.notifier.deliverDue()
        let byRecipient = Dictionary(
            grouping: fixture.sms.envelopes.flatMap { envelope in envelope.notifications.map { (envelope.recipient.id, $0.type) } }
        ) { $0.0 }
        .mapValues { $0.map(\.1) }
        #expect(Set(byRecipient[NotifierTests.worker] ?? []) == ["incident.dispatched", "incident.verified"])
        #expect(Set(byRecipient["reporter:inc-1"] ?? []) == ["incident.verified", "incident.closed"])
        let verified = try #require(fixture.sms.envelopes.flatMap(\.notifications).first { $0.type == "incident.verified" })
        #expect(verified.text.contains("未通过"))
    }

    /// Notices for one recipient within the group wait are one message.
    @Test(arguments: StoreEngine.allCases) func noticesWithinTheGroupWaitAreOneMessage(engine: StoreEngine) async throws {
        let fixture = try await Fixture(engine: engine)
        try await fixture.register("inc-1")
        try await fixture.register("inc-2")
        try await fixture.dispatch("inc-1")
        fixture.clock.advance(10)
        try await fixture.dispatch("inc-2")
        fixture.clock.advance(20)
        #expect(try await fixture.notifier.deliverDue() == 1)  // inc-1 is due, and takes inc-2 along
        fixture.clock.advance(10)
        #expect(try await fixture.notifier.deliverDue() == 0)
        #expect(fixture.sms.envelopes.count == 1 && fixture.sms.envelopes[0].notifications.map(\.incidentId) == ["inc-1", "inc-2"])
        #expect(try await fixture.published(.notificationSent).count == 2)  // one per notice
    }

    /// Not acknowledged: a reminder every repeat interval, at most the limit; acknowledging stops them.
    @Test(arguments: StoreEngine.allCases) func remindersRepeatUntilAcknowledged(engine: StoreEngine) async throws {
        var rules = NotifierRules()
        rules.repeatInterval = 600
        rules.groupWait = 0
        let fixture = try await Fixture(engine: engine, rules: rules)
        try await fixture.register("inc-1")
        try await fixture.dispatch("inc-1")
        try await fixture.notifier.deliverDue()
        for _ in 0..<2 {
            fixture.clock.advance(600)
            #expect(try await fixture.notifier.sweepReminders() == 1)
            try await fixture.notifier.deliverDue()
        }
        #expect(fixture.sms.envelopes.map { $0.notifications[0].type } == ["incident.dispatched", "reminder", "reminder"])
        #expect(fixture.sms.envelopes[1].text.contains("提醒"))
        try await fixture.hear(IncidentAcknowledged(incidentId: "inc-1", by: NotifierTests.worker), id: "inc-1-3", subject: "inc-1")
        fixture.clock.advance(600)
        #expect(try await fixture.notifier.sweepReminders() == 0)
        #expect(fixture.sms.envelopes.count == 3)
    }

    /// The sweep runs every second while every unacknowledged dispatch has a row: it must read
    /// only the due ones (a 25-minute run at 200 reports/s keeps about 300,000 rows).
    @Test func theReminderSweepReadsOnlyTheDueRows() async throws {
        let path = TemporaryFiles.store("notifier")
        _ = try await Fixture(path: path)
        let connection = try SQLiteConnection(path: path)
        #expect(try connection.queryPlan(NotifierStore.dueRemindersSQL.longestWaiting) == ["SEARCH reminders USING INDEX reminders_due (next_ms<?)"])
        #expect(
            try connection.queryPlan(NotifierStore.dueRemindersSQL.ofRecipient) == [
                "SEARCH reminders USING INDEX reminders_recipient (recipient_id=? AND next_ms<?)"
            ]
        )
    }

    /// A dispatch journaled after its acknowledgement (a publish retried after a NACK) tells of a
    /// state the case has left: no notice, no reminders (before, the assignee was told of a case
    /// already taken, and reminded of it up to the repeat limit). The same for a case heard of first
    /// in the middle (its report removed by retention before the notifier heard it): it is kept
    /// from its first numbered step.
    @Test(arguments: [true, false]) func aDispatchHeardAfterItsAcknowledgementNotifiesNoOne(caseWasReported: Bool) async throws {
        var rules = NotifierRules()
        rules.repeatInterval = 600
        rules.groupWait = 0
        let fixture = try await Fixture(rules: rules)
        if caseWasReported { try await fixture.register("inc-1") }
        try await fixture.hear(IncidentAcknowledged(incidentId: "inc-1", by: NotifierTests.worker), id: "inc-1-3", subject: "inc-1")
        try await fixture.dispatch("inc-1")  // step 2, after step 3
        #expect(try await fixture.notifier.deliverDue() == 0)
        fixture.clock.advance(600)
        #expect(try await fixture.notifier.sweepReminders() == 0)
        #expect(fixture.sms.envelopes.isEmpty)
        // The next step still counts: a re-dispatch (step 4) is told, and reminded of.
        try await fixture.dispatch("inc-1", eventID: "inc-1-4")
        #expect(try await fixture.notifier.deliverDue() == 1)
        #expect(fixture.sms.envelopes.map { $0.notifications[0].type } == ["incident.dispatched"])
        fixture.clock.advance(600)
        #expect(try await fixture.notifier.sweepReminders() == 1)
    }

    /// Residents have quiet hours (22:00–07:00): a routine notice at 23:00 waits until 07:00; an urgent one goes at once.
    @Test(arguments: StoreEngine.allCases) func quietHoursHoldRoutineNoticesUntilMorning(engine: StoreEngine) async throws {
        var rules = NotifierRules()
        var registered = RouteMatch()
        registered.types = ["incident.registered"]
        rules.routes = [Route(match: registered, to: ["resident-member"], continue: false)]
        rules.groupWait = 0
        let night = Clock(NotifierTests.morning.addingTimeInterval(13 * 3600))  // 23:00
        let fixture = try await Fixture(engine: engine, rules: rules, clock: night)
        try await fixture.register("inc-1")
        try await fixture.register("inc-2", priority: .urgent)
        try await fixture.notifier.deliverDue()
        #expect(fixture.sms.envelopes.flatMap(\.notifications).map(\.incidentId) == ["inc-2"])
        night.advance(7 * 3600 + 59 * 60)  // 06:59
        #expect(try await fixture.notifier.deliverDue() == 0)
        night.advance(60)
        #expect(try await fixture.notifier.deliverDue() == 1)
        #expect(fixture.sms.envelopes.last?.notifications.first?.incidentId == "inc-1")
    }

    /// Emergency mode in a community mutes routine notices for its grids; urgent ones still go.
    @Test(arguments: StoreEngine.allCases) func emergencyModeMutesRoutineNotices(engine: StoreEngine) async throws {
        var rules = NotifierRules()
        rules.groupWait = 0
        let fixture = try await Fixture(engine: engine, rules: rules)
        try await fixture.hear(GridModeChanged(scope: .community, target: "C-01-01", mode: .emergency, by: "ops"), id: "mode-1", grid: nil)
        try await fixture.register("inc-1")
        try await fixture.register("inc-2", priority: .urgent)
        try await fixture.dispatch("inc-1")
        try await fixture.dispatch("inc-2")
        try await fixture.notifier.deliverDue()
        let told = fixture.sms.envelopes.flatMap(\.notifications)
        #expect(told.filter { $0.type == "incident.dispatched" }.map(\.incidentId) == ["inc-2"])
        #expect(told.contains { $0.type == "grid.mode.changed" })  // the switch itself is told
        #expect(try await fixture.notifier.log(incident: "inc-1").map(\.status) == ["muted"])
    }

    /// A silence holds back what it matches until it ends.
    @Test(arguments: StoreEngine.allCases) func silencesHoldBackWhatTheyMatchUntilTheyEnd(engine: StoreEngine) async throws {
        var rules = NotifierRules()
        rules.groupWait = 0
        let fixture = try await Fixture(engine: engine, rules: rules)
        let silence = try await fixture.notifier.addSilence(
            Silence.Matchers(type: "incident.dispatched", grid: "G-01-01"),
            until: fixture.clock.now.addingTimeInterval(3600),
            by: "ops",
            comment: "drill"
        )
        try await fixture.register("inc-1")
        try await fixture.dispatch("inc-1")
        try await fixture.notifier.deliverDue()
        #expect(fixture.sms.envelopes.isEmpty)
        #expect(try await fixture.notifier.log(incident: "inc-1").first?.detail == "silence \(silence.id)")
        #expect(try await fixture.notifier.silences(includeExpired: false).map(\.id) == [silence.id])
        fixture.clock.advance(3600)
        #expect(try await fixture.notifier.silences(includeExpired: false).isEmpty)
        try await fixture.register("inc-2")
        try await fixture.dispatch("inc-2")
        try await fixture.notifier.deliverDue()
        #expect(fixture.sms.envelopes.flatMap(\.notifications).map(\.incidentId) == ["inc-2"])
    }

    /// A temporary failure is tried again with back-off (1 s, 2 s, … ±20 %); under the same message id.
    @Test(arguments: StoreEngine.allCases) func temporaryFailuresAreRetriedUnderTheSameMessageID(engine: StoreEngine) async throws {
        var rules = NotifierRules()
        rules.groupWait = 0
        let fixture = try await Fixture(engine: engine, rules: rules)
        fixture.sms.script([.retry("HTTP 503"), .retry("timeout")])
        try await fixture.register("inc-1")
        try await fixture.dispatch("inc-1")
        #expect(try await fixture.notifier.deliverDue() == 1)
        #expect(try await fixture.notifier.deliverDue() == 0)  // waiting 1 s
        fixture.clock.advance(1)
        #expect(try await fixture.notifier.deliverDue() == 1)
        fixture.clock.advance(1)
        #expect(try await fixture.notifier.deliverDue() == 0)  // now 2 s
        fixture.clock.advance(1)
        #expect(try await fixture.notifier.deliverDue() == 1)
        #expect(Set(fixture.sms.envelopes.map(\.messageId)).count == 1 && fixture.sms.envelopes.map(\.attempt) == [1, 2, 3])
        #expect(try await fixture.published(.notificationSent).first?["attempts"] == .integer(3))
    }

    /// A message tried again holds exactly what it held the first time, even when the due notices
    /// are read in smaller batches than the message (receivers drop a repeated message id).
    @Test(arguments: StoreEngine.allCases) func aRetriedMessageIsResentWhole(engine: StoreEngine) async throws {
        var rules = NotifierRules()
        rules.groupWait = 0
        let fixture = try await Fixture(engine: engine, rules: rules)
        for id in ["inc-1", "inc-2", "inc-3"] {
            try await fixture.register(id)
            try await fixture.dispatch(id)
        }
        fixture.sms.script([.retry("HTTP 503")])
        #expect(try await fixture.notifier.deliverDue(limit: 10) == 1)
        fixture.clock.advance(2)
        #expect(try await fixture.notifier.deliverDue(limit: 1) == 1)
        #expect(fixture.sms.envelopes.map { $0.notifications.count } == [3, 3])
        #expect(fixture.sms.envelopes[0].messageId == fixture.sms.envelopes[1].messageId)
    }

    /// SMS fails for good: notification.failed, then the recipient's next channel; a grid worker
    /// with no other channel falls back to the grid chief.
    @Test(arguments: StoreEngine.allCases) func aPermanentFailureFallsBackToTheNextChannelAndThenTheGridChief(engine: StoreEngine) async throws {
        var rules = NotifierRules()
        rules.groupWait = 0
        rules.routes = [Route(match: RouteMatch(), to: ["assignees"], continue: false)]
        let fixture = try await Fixture(engine: engine, rules: rules)
        try await fixture.register("inc-1")
        fixture.sms.script([.failed("HTTP 400 bad number"), .failed("HTTP 400 bad number")])
        try await fixture.dispatch("inc-1", to: [NotifierTests.chief])  // has an email too
        try await fixture.notifier.deliverDue()
        try await fixture.notifier.deliverDue()
        #expect(fixture.email.envelopes.map(\.recipient.id) == [NotifierTests.chief])
        try await fixture.register("inc-2")
        try await fixture.dispatch("inc-2", to: [NotifierTests.worker])  // a phone only
        try await fixture.notifier.deliverDue()
        try await fixture.notifier.deliverDue()
        #expect(fixture.sms.envelopes.map(\.recipient.id) == [NotifierTests.chief, NotifierTests.worker, NotifierTests.chief])
        let failed = try await fixture.published(.notificationFailed)
        #expect(failed.map { $0["recipient"] } == [.string(NotifierTests.chief), .string(NotifierTests.worker)])
        #expect(failed.first?["reason"]?.stringValue?.contains("bad number") == true)
    }

    /// Retries stop at the deadline: then it has failed.
    @Test(arguments: StoreEngine.allCases) func retriesGiveUpAtTheDeadline(engine: StoreEngine) async throws {
        var rules = NotifierRules()
        rules.groupWait = 0
        rules.retry.deadline = 5
        rules.routes = [Route(match: RouteMatch(), to: ["assignees"], continue: false)]
        let fixture = try await Fixture(engine: engine, rules: rules)
        fixture.sms.script(Array(repeating: .retry("HTTP 503"), count: 10))
        try await fixture.register("inc-1")
        try await fixture.dispatch("inc-1", to: [NotifierTests.chief])
        for _ in 0..<10 {
            try await fixture.notifier.deliverDue()
            fixture.clock.advance(1)
        }
        let failed = try await fixture.published(.notificationFailed)
        #expect(
            failed.count == 1 && failed[0]["reason"]?.stringValue?.hasPrefix("gave up after 3 attempts") == true
                && failed[0]["attempts"] == .integer(3)
        )
        #expect(fixture.email.envelopes.count == 1)  // and the fallback took over
    }

    /// A restart with messages handed to a channel but not recorded: they go again, under the same
    /// message id (receivers drop the repeat by its Idempotency-Key), and nothing else is repeated.
    @Test(arguments: StoreEngine.allCases) func aRestartResendsOnlyTheMessagesInDoubt(engine: StoreEngine) async throws {
        var rules = NotifierRules()
        rules.groupWait = 0
        let path = TemporaryFiles.store("notifier")
        let clock = Clock(NotifierTests.morning)
        let first = try await Fixture(engine: engine, rules: rules, clock: clock, path: path)
        try await first.register("inc-1")
        try await first.dispatch("inc-1")
        try await first.register("inc-2")
        try await first.dispatch("inc-2", to: [NotifierTests.chief])
        try await first.notifier.deliverDue()
        // inc-3 is claimed (marked sending) and then the process dies before recording the outcome.
        try await first.register("inc-3")
        try await first.dispatch("inc-3", to: [NotifierTests.resident])
        try await first.store.write { connection, _ in
            try connection.execute("UPDATE deliveries SET status = 'sending', attempts = 1, message_id = 'm-in-doubt' WHERE incident = 'inc-3'")
        }
        let second = try await Fixture(engine: engine, rules: rules, clock: clock, path: path)
        try await second.dispatch("inc-1")  // redelivered after the restart
        #expect(try await second.notifier.deliverDue() == 1)
        #expect(second.sms.envelopes.map(\.messageId) == ["m-in-doubt"] && second.sms.envelopes[0].attempt == 2)
    }

    @Test func rulesFilesAreCheckedFieldByField() throws {
        func read(_ yaml: String) throws(DefinitionError) -> NotifierRules {
            try NotifierRules.read(try YAMLDefinition.parse(yaml, file: "rules.yaml"), channels: ["sms", "email", "log", "webhook"])
        }
        let rules = try read(
            """
            routes:
              - match: {type: incident.escalated, priority: [urgent, emergency]}
                to: [escalation-targets, grid-chief]
                continue: true
              - match: {grid: G-01}
                to: operators
            group-wait: 1m
            repeat: {interval: 10m, limit: 2}
            quiet-hours: {roles: {grid-worker: "23:00-06:30"}}
            channel-order: [email, sms]
            """
        )
        #expect(rules.routes.count == 2 && rules.routes[0].continue && rules.routes[1].to == ["operators"])
        #expect(rules.groupWait == 60 && rules.repeatInterval == 600 && rules.repeatLimit == 2 && rules.channelOrder == ["email", "sms"])
        #expect(rules.quietHoursByRole["grid-worker"] == QuietHours(start: 23 * 60, end: 6 * 60 + 30))
        for (yaml, field) in [
            ("routes:\n  - match: {type: incident.exploded}\n    to: [assignees]", "routes[0].match.type[0]"),
            ("routes:\n  - match: {type: incident.closed}", "routes[0].to"),
            ("channel-order: [pigeon]", "channel-order[0]"),
            ("quiet-hours: {roles: {grid-worker: late}}", "quiet-hours.roles.grid-worker"),
            ("group-wiat: 1m", "group-wiat"),
        ] {
            #expect(throws: DefinitionError.self, "\(field)") { try read(yaml) }
            do { _ = try read(yaml) } catch { #expect(error.field == field, "\(yaml)") }
        }
    }
}
