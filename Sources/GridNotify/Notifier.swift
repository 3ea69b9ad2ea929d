import Foundation
import GridBusClient
import GridDistrict
import GridJSON
import GridSchema
import GridSecurity
import GridStore
import Logging
import Synchronization

/// The notifier's core: hears incident and mode events, decides who is told (routes), plans one
/// notice per recipient and state change (the notification log's key makes a repeat a no-op), and
/// sends what is due through the channels — grouped, outside quiet hours, not when silenced or
/// muted by emergency mode — retrying, falling back, and publishing the outcome.
public final class Notifier: Sendable {
    public static let source = "grid-notifier"

    let district: District
    let rules: NotifierRules
    let channels: [String: any NotificationChannel]
    let runtime: WorkerRuntime
    let logger: Logger
    let now: @Sendable () -> Date
    /// A number in 0..<1 for the back-off's jitter (injectable for tests).
    let jitter: @Sendable () -> Double
    let calendar: Calendar
    let places: [String: DistrictPlace]
    /// Settled notices removed from the log by age since the start (`/metrics`).
    let removedFromLog = Atomic<Int>(0)

    public init(
        district: District,
        rules: NotifierRules,
        channels: [any NotificationChannel],
        runtime: WorkerRuntime,
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.district = district
        self.rules = rules
        self.channels = Dictionary(channels.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.runtime = runtime
        self.logger = logger
        self.now = now
        self.jitter = jitter
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = rules.timeZone
        self.calendar = calendar
        places = Dictionary(
            district.grids.map { ($0.id, DistrictPlace(grid: $0.id, community: $0.community, town: $0.town, district: $0.district)) },
            uniquingKeysWith: { first, _ in first }
        )
    }

    /// The notifier's tables, created and changed by these (after the runtime's own).
    public static let migrations = NotifierStore.migrations

    /// Messages handed to a channel when the last run stopped are in doubt: they are sent again,
    /// under the same message id, so that receivers can drop what they already have. Call once at
    /// start, before anything is sent.
    public func recoverSendsInDoubt() async throws {
        try await runtime.write { connection, _ in try NotifierStore.recoverSendsInDoubt(connection) }
    }

    // MARK: Hearing events

    /// What hearing a batch of events came to.
    struct Heard: Sendable {
        /// Notices planned to be sent (most events only update what is known of a case).
        var planned: Int
        /// Messages claimed in the same commit, to be sent now.
        var claimed: [Batch]
    }

    /// Several events in one transaction, each in its own savepoint: one that cannot be read or
    /// planned is logged and left out without failing the others. Returns how many notices were
    /// planned to be sent.
    @discardableResult
    public func handle(_ busEvents: [BusEvent]) async throws -> Int {
        try await handle(busEvents, claimingUpTo: 0).planned
    }

    /// As ``handle(_:)``, and when notices were planned, also claims up to `limit` messages due now
    /// in the same transaction, which is then synced (a claimed message is on disk before it is
    /// sent). An urgent notice then leaves after one synced commit instead of two, without a trip
    /// through the delivery loop.
    func handle(_ busEvents: [BusEvent], claimingUpTo limit: Int) async throws -> Heard {
        var events: [CloudEvent] = []
        for busEvent in busEvents {
            do { events.append(try CloudEvent.decode(busEvent.bytes)) } catch {
                logger.error(
                    "an event the notifier cannot read was skipped",
                    metadata: ["event.sequence": "\(busEvent.sequence)", "error": "\(error)"]
                )
            }
        }
        guard !events.isEmpty else { return Heard(planned: 0, claimed: []) }
        let now = self.now()
        // Not synced on its own: what is planned here is derived from the bus and planned again
        // (under the same keys) after a power loss; a commit that publishes or claims is synced.
        return try await runtime.write(durable: false) { [self, events] connection, outbox in
            var planned = 0
            for event in events {
                switch try connection.savepoint("event", { try hear(event, at: now, connection: connection, outbox: outbox) }) {
                case .success(let count): planned += count
                case .failure(let error):
                    logger.error("an event could not be planned", metadata: ["event": "\(event.id)", "type": "\(event.type)", "error": "\(error)"])
                }
            }
            guard planned > 0, limit > 0 else { return Heard(planned: planned, claimed: []) }
            let claimed = try claim(at: now, limit: limit, connection: connection)
            if !claimed.isEmpty { outbox.syncOnCommit() }
            return Heard(planned: planned, claimed: claimed)
        }
    }

    /// Returns the number of notices planned to be sent.
    private func hear(_ event: CloudEvent, at now: Date, connection: SQLiteConnection, outbox: OutboxWriter) throws -> Int {
        guard case .object(let data)? = event.data else { return 0 }
        let incidentId = data["incidentId"]?.stringValue ?? event.subject
        var facts = try incidentId.flatMap { try NotifierStore.incident($0, on: connection) }
        // The dispatcher numbers a case's events, and the bus may journal a retried one after a later
        // one (docs/events.md, "Order"). A step at or before one already heard tells of a state the
        // case has left (a dispatch already acknowledged): it notifies no one and starts no
        // reminder; a late registration only fills in what is still unknown of the case.
        let step = event.source == "grid-dispatcher" ? incidentId.flatMap { CaseStep.number(ofEventID: event.id, incident: $0) } : nil
        if let step, var known = facts, let last = known.step, step <= last {
            if event.type == EventType.incidentRegistered.rawValue, let registered = try? event.payload(as: IncidentRegistered.self) {
                known.grid = known.grid ?? registered.grid
                known.category = known.category ?? registered.category
                known.priority = known.priority ?? registered.priority
                known.deadline = known.deadline ?? RFC3339.format(registered.deadline)
                known.emergency = known.emergency || registered.emergency == true
                try NotifierStore.save(known, on: connection)
            }
            logger.debug("an earlier step of a case came late and was passed over", metadata: ["event": "\(event.id)", "case.step": "\(last)"])
            return 0
        }
        // A numbered step of a case never heard reported (the notifier started after retention
        // removed the report, or was given a journal's later part): keep the case from here on,
        // so that its assignees get reminders and a step that comes late is still recognised.
        if facts == nil, step != nil, let incidentId { facts = .unreported(incidentId, grid: event.grid) }
        // Keep what later notices need to know about the incident.
        switch event.type {
        case EventType.incidentReported.rawValue:
            let report = try event.payload(as: IncidentReported.self)
            guard facts == nil else { return 0 }
            facts = NotifierStore.IncidentFacts(
                id: report.incidentId,
                grid: report.grid,
                category: report.category,
                priority: report.priority,
                emergency: false,
                reporter: report.reporter,
                assignees: [],
                acknowledgeBy: nil,
                deadline: nil
            )
        case EventType.incidentRegistered.rawValue:
            let registered = try event.payload(as: IncidentRegistered.self)
            facts = facts ?? .unreported(registered.incidentId, grid: registered.grid)
            facts!.grid = registered.grid
            facts!.category = registered.category
            facts!.priority = registered.priority
            facts!.emergency = registered.emergency ?? false
            facts!.deadline = RFC3339.format(registered.deadline)
        case EventType.incidentDispatched.rawValue:
            let dispatched = try event.payload(as: IncidentDispatched.self)
            guard facts != nil else { break }
            facts!.assignees = dispatched.assignees
            facts!.acknowledgeBy = RFC3339.format(dispatched.acknowledgeBy)
            facts!.deadline = RFC3339.format(dispatched.deadline)
            if dispatched.policy == "claimed" || dispatched.assignees.isEmpty {
                try NotifierStore.cancelReminders(incident: dispatched.incidentId, on: connection)
            } else {
                try NotifierStore.remind(
                    incident: dispatched.incidentId,
                    recipients: dispatched.assignees,
                    dispatch: event.id,
                    next: now.addingTimeInterval(rules.repeatInterval).millisecondsSince1970,
                    on: connection
                )
            }
        case EventType.incidentExtended.rawValue:
            if let deadline = data["deadline"]?.stringValue { facts?.deadline = deadline }
        case EventType.incidentAcknowledged.rawValue, EventType.incidentReturned.rawValue, EventType.incidentClosed.rawValue,
            EventType.incidentMerged.rawValue, EventType.incidentRejected.rawValue, EventType.incidentHandled.rawValue,
            EventType.incidentSuspended.rawValue:
            if let incidentId { try NotifierStore.cancelReminders(incident: incidentId, on: connection) }
        case EventType.gridModeChanged.rawValue:
            let change = try event.payload(as: GridModeChanged.self)
            try NotifierStore.setMode(place: "\(change.scope.rawValue):\(change.target)", emergency: change.mode == .emergency, on: connection)
        default:
            break
        }
        if let step { facts?.step = step }
        if let facts { try NotifierStore.save(facts, on: connection) }
        let grid = facts?.grid ?? (data["scope"]?.stringValue == "grid" ? data["target"]?.stringValue : nil)
        var told = Set<String>()
        var planned = 0
        for route in rules.routes(for: event.type, priority: facts?.priority, category: facts?.category, grid: grid) {
            for recipient in try recipients(route.to, event: event, data: data, facts: facts) where told.insert(recipient.id).inserted {
                let notice = Notice(
                    type: event.type,
                    state: event.id,
                    incidentId: incidentId,
                    facts: facts,
                    data: data,
                    urgent: isUrgent(event, data: data, facts: facts)
                )
                if try plan(notice, for: recipient, at: now, connection: connection, outbox: outbox) { planned += 1 }
            }
        }
        return planned
    }

    /// What a notice is about, before it is addressed.
    struct Notice {
        var type: String
        /// The state change it tells of: the event's id (or the reminder's number).
        var state: String
        var incidentId: String?
        var facts: NotifierStore.IncidentFacts?
        var data: [String: JSONValue]
        var urgent: Bool
    }

    /// Urgent and emergency priorities, cases registered in emergency mode, and switches into
    /// emergency mode go out at once, in quiet hours too, and are never muted.
    func isUrgent(_ event: CloudEvent, data: [String: JSONValue], facts: NotifierStore.IncidentFacts?) -> Bool {
        if event.type == EventType.gridModeChanged.rawValue { return data["mode"]?.stringValue == "emergency" }
        return (facts?.priority ?? .normal) != .normal || facts?.emergency == true
    }

    // MARK: Recipients

    func recipient(_ member: Member) -> Recipient {
        Recipient(
            id: member.id,
            name: member.name,
            language: member.language,
            phone: member.phone,
            email: member.email,
            webhook: member.webhook,
            role: member.role.rawValue
        )
    }

    func recipient(_ person: Operator) -> Recipient {
        Recipient(
            id: person.id,
            name: person.name,
            language: person.language,
            phone: person.phone,
            email: person.email,
            webhook: person.webhook,
            role: "operator"
        )
    }

    func recipients(_ selectors: [String], event: CloudEvent, data: [String: JSONValue], facts: NotifierStore.IncidentFacts?) throws -> [Recipient] {
        let grid = facts?.grid
        var found: [Recipient] = []
        for selector in selectors {
            switch selector {
            case "assignees":
                let assignees = data["assignees"]?.arrayValue?.compactMap(\.stringValue) ?? facts?.assignees ?? []
                found += assignees.compactMap { district.membersByID[$0].map(recipient) }
            case "escalation-targets":
                for target in data["to"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                    if let member = district.membersByID[target] {
                        found.append(recipient(member))
                    } else {
                        // `community:C-…`, `town:T-…`, `grid-chief:G-…`: the operators who cover that place.
                        let place = String(target.split(separator: ":", maxSplits: 1).last ?? "")
                        found += rules.operators.filter { $0.places.contains("*") || $0.places.contains(place) }.map(recipient)
                    }
                }
            case "reporter":
                if let reporter = facts?.reporter, reporter.wantsUpdates == true, let phone = reporter.phone, let incident = facts?.id {
                    found.append(
                        Recipient(
                            id: "reporter:\(incident)",
                            name: reporter.name ?? "",
                            language: rules.defaultLanguage,
                            phone: phone,
                            role: "reporter"
                        )
                    )
                }
            case "operators":
                if event.type == EventType.gridModeChanged.rawValue, let target = data["target"]?.stringValue {
                    found += rules.operators.filter { $0.places.contains("*") || $0.places.contains(target) }.map(recipient)
                } else {
                    found += rules.operators.filter { $0.covers(grid: grid.flatMap { places[$0] }) }.map(recipient)
                }
            default:
                if let role = Member.Role(rawValue: selector) {
                    found += members(role: role, event: event, data: data, grid: grid).map(recipient)
                } else if let member = district.membersByID[selector] {
                    found.append(recipient(member))
                } else {
                    logger.warning("a route names nobody known", metadata: ["selector": "\(selector)"])
                }
            }
        }
        return found
    }

    /// Members of a role in the incident's grid, or in every grid of the place a mode change names.
    func members(role: Member.Role, event: CloudEvent, data: [String: JSONValue], grid: String?) -> [Member] {
        var grids: [String] = grid.map { [$0] } ?? []
        if event.type == EventType.gridModeChanged.rawValue, let scope = data["scope"]?.stringValue, let target = data["target"]?.stringValue {
            grids = places.values.filter { place in
                switch scope {
                case "grid": place.grid == target
                case "community": place.community == target
                case "town": place.town == target
                default: place.district == target
                }
            }.map(\.grid).sorted()
        }
        var seen = Set<String>()
        return grids.flatMap { district.members(of: $0) }.filter { $0.role == role && seen.insert($0.id).inserted }
    }

    /// The channels a recipient can be reached on, in the rules' order.
    func channelList(_ recipient: Recipient) -> [any NotificationChannel] {
        rules.channelOrder.compactMap { channels[$0] }.filter { channel in
            guard let address = recipient.address(for: channel.contact) else { return false }
            return channel.contact == .none || !address.isEmpty
        }
    }

    // MARK: Planning

    /// `11-27 14:30` in the district's zone, as people read times in a message.
    func localTime(_ date: Date) -> String {
        let parts = calendar.dateComponents([.month, .day, .hour, .minute], from: date)
        return String(format: "%02d-%02d %02d:%02d", parts.month!, parts.day!, parts.hour!, parts.minute!)
    }

    func facts(of notice: Notice, for recipient: Recipient) -> [String: String] {
        var facts: [String: String] = ["type": notice.type]
        for (key, value) in notice.data {
            switch value {
            case .string(let text): facts[key] = text
            case .integer(let number): facts[key] = String(number)
            case .bool(let flag): facts[key] = String(flag)
            default: break
            }
        }
        if let incident = notice.incidentId { facts["incident"] = incident }
        if let passed = notice.data["passed"] { facts["outcome"] = passed == .bool(true) ? "passed" : "failed" }
        if let known = notice.facts {
            facts["grid"] = known.grid ?? facts["grid"]
            facts["priority"] = known.priority?.rawValue
            facts["acknowledgeBy"] = facts["acknowledgeBy"] ?? known.acknowledgeBy
            facts["deadline"] = facts["deadline"] ?? known.deadline
            if let code = known.category {
                let category = district.categoriesByCode[code]
                facts["categoryCode"] = code
                facts["category"] = (recipient.language == "en" ? category?.nameEn : category?.nameZh) ?? code
            }
        }
        // Times in the district's zone, as people read them.
        for key in ["acknowledgeBy", "deadline"] {
            if let text = facts[key], let date = RFC3339.parse(text) {
                facts[key] = localTime(date)
            }
        }
        return facts
    }

    /// Records the notice for the recipient; true when it was new and waits to be sent (not muted,
    /// not undeliverable, not planned before).
    @discardableResult
    func plan(
        _ notice: Notice,
        for recipient: Recipient,
        at now: Date,
        connection: SQLiteConnection,
        outbox: OutboxWriter,
        keySuffix: String = ""
    ) throws -> Bool {
        let key = "\(recipient.id)|\(notice.incidentId ?? "-")|\(notice.state)\(keySuffix)"
        let grid = notice.facts?.grid ?? (notice.data["scope"]?.stringValue == "grid" ? notice.data["target"]?.stringValue : nil)
        var row = DeliveryRow(
            id: 0,
            key: key,
            notificationId: "n-" + String(SHA256.hex(Array(key.utf8)).prefix(20)),
            recipient: recipient,
            incident: notice.incidentId,
            type: notice.type,
            priority: notice.facts?.priority?.rawValue,
            grid: grid,
            category: notice.facts?.category,
            urgent: notice.urgent,
            facts: facts(of: notice, for: recipient),
            channelIndex: 0,
            channel: "none",
            status: .pending,
            createdAt: now.millisecondsSince1970,
            dueAt: now.millisecondsSince1970,
            attempts: 0,
            messageId: nil,
            detail: nil
        )
        let reachable = channelList(recipient)
        guard let channel = reachable.first else {
            row.status = .failed
            row.detail = "no address for any channel (\(rules.channelOrder.joined(separator: ", ")))"
            if try NotifierStore.insert(row, on: connection) { try publishFailure(row, attempts: 1, reason: row.detail!, outbox: outbox, at: now) }
            return false
        }
        row.channel = channel.name
        if !notice.urgent, notice.type != EventType.gridModeChanged.rawValue, let grid, try isInEmergency(grid: grid, on: connection) {
            // Emergency mode in the grid: routine notices are muted, the urgent ones go on.
            row.status = .muted
            row.detail = "the grid is in emergency mode"
        } else if !notice.urgent {
            // A reminder skips the group wait: the delivery loop plans reminders only as there is
            // room to send them (`DeliveryService`), which holds only for ones due at once. It still
            // takes along what the recipient has waiting, as any message does.
            var due = now.addingTimeInterval(notice.type == "reminder" ? 0 : rules.groupWait)
            if let window = quietHours(of: recipient), let end = window.end(after: due, calendar: calendar) { due = end }
            row.dueAt = due.millisecondsSince1970
        }
        return try NotifierStore.insert(row, on: connection) && row.status == .pending
    }

    func quietHours(of recipient: Recipient) -> QuietHours? {
        rules.quietHoursByMember[recipient.id] ?? recipient.role.flatMap { rules.quietHoursByRole[$0] }
    }

    func isInEmergency(grid: String, on connection: SQLiteConnection) throws -> Bool {
        let emergencies = try NotifierStore.emergencies(on: connection)
        guard !emergencies.isEmpty, let place = places[grid] else { return false }
        return emergencies.contains("grid:\(grid)") || emergencies.contains("community:\(place.community)")
            || emergencies.contains("town:\(place.town)")
            || emergencies.contains("district:\(place.district)")
    }

    // MARK: Reminders

    /// Dispatches nobody acknowledged: the assignees are reminded every `repeat.interval`, at most
    /// `repeat.limit` times; acknowledging (or any later step) stops them. Plans the due reminders
    /// of the `recipients` members whose reminders have waited longest, each member's together
    /// (they go as one message), at most `limit` in one transaction; the others stay due for the
    /// next sweep. Returns how many it planned.
    @discardableResult
    public func sweepReminders(recipients: Int = .max, limit: Int = 500) async throws -> Int {
        let now = self.now()
        // As `handle`: a reminder taken back by a power loss falls due again under the same number.
        return try await runtime.write(durable: false) { [self] connection, outbox -> Int in
            let due = try NotifierStore.dueReminders(at: now.millisecondsSince1970, recipients: recipients, limit: limit, on: connection)
            for reminder in due {
                let number = reminder.count + 1
                let more = number < rules.repeatLimit
                try NotifierStore.advance(
                    reminder,
                    next: more ? now.addingTimeInterval(rules.repeatInterval).millisecondsSince1970 : nil,
                    on: connection
                )
                guard number <= rules.repeatLimit, let member = district.membersByID[reminder.recipientId] else { continue }
                let facts = try NotifierStore.incident(reminder.incident, on: connection)
                let notice = Notice(
                    type: "reminder",
                    state: "reminder-\(reminder.dispatch)-\(number)",
                    incidentId: reminder.incident,
                    facts: facts,
                    data: [:],
                    urgent: (facts?.priority ?? .normal) != .normal || facts?.emergency == true
                )
                try plan(notice, for: recipient(member), at: now, connection: connection, outbox: outbox)
            }
            return due.count
        }
    }

    // MARK: Sending

    struct Batch: Sendable {
        var messageId: String
        var rows: [DeliveryRow]
        var attempt: Int
    }

    /// Sends every message due now: groups the due notices per recipient and channel, holds back
    /// the silenced ones, hands each message to its channel (at most its concurrency at once), then
    /// records the outcomes with their `notification.*` events in one transaction. Returns the
    /// number of messages handed to channels.
    @discardableResult
    public func deliverDue(limit: Int = 1000) async throws -> Int {
        let now = self.now()
        let batches = try await claim(at: now, limit: limit)
        guard !batches.isEmpty else { return 0 }
        let outcomes = await send(batches)
        try await record(outcomes, at: self.now())
        return batches.count
    }

    /// Claims up to `limit` due messages for the pipelined delivery loop (`DeliveryService`), which
    /// sends each on its own and records it as soon as it is answered (`deliver(_:)`), so that a
    /// slow receiver holds up no other message.
    func claimDue(limit: Int) async throws -> [Batch] {
        guard limit > 0 else { return [] }
        return try await claim(at: now(), limit: limit)
    }

    /// Sends one claimed message on its channel and records the outcome. Returns true when it
    /// failed for good: its fallback (the next channel, or the grid chief) is due now.
    @discardableResult
    func deliver(_ batch: Batch) async throws -> Bool {
        let outcome: DeliveryOutcome
        if let channel = channels[batch.rows[0].channel] {
            outcome = await channel.deliver(envelope(batch, channel: channel))
        } else {
            outcome = .failed("no channel '\(batch.rows[0].channel)' any more")
        }
        return try await record([(batch, outcome)], at: now())
    }

    /// Marks the due notices `sending`, grouped into messages (a message keeps its id and its
    /// notices across retries and restarts).
    func claim(at now: Date, limit: Int) async throws -> [Batch] {
        try await runtime.write { [self] connection, _ in try claim(at: now, limit: limit, connection: connection) }
    }

    /// The claim, inside a transaction whose commit is synced before any of it is sent.
    func claim(at now: Date, limit: Int, connection: SQLiteConnection) throws -> [Batch] {
        let nowMs = now.millisecondsSince1970
        let silences = try NotifierStore.silences(activeAt: nowMs, on: connection)
        let perMessage = NotifierStore.noticesPerMessage
        var silenced: [(row: DeliveryRow, by: Silence)] = []
        var order: [String] = []
        var groups: [String: [DeliveryRow]] = [:]
        // In the order they fell due, until `limit` messages are made: a member with many notices
        // due (reminders after an outage) gets one message of them, and the claim still fills its room.
        try NotifierStore.due(at: nowMs, limit: limit * perMessage, on: connection) { row in
            if let silence = silences.first(where: { $0.matches(row) }) {
                silenced.append((row, silence))
                return true
            }
            let group = row.messageId ?? "new|\(row.recipient.id)|\(row.channel)"
            if groups[group] == nil {
                guard order.count < limit else { return false }
                order.append(group)
            }
            if groups[group, default: []].count < perMessage { groups[group, default: []].append(row) }
            return true
        }
        for (row, silence) in silenced {
            try NotifierStore.update([row.id], status: .silenced, detail: "silence \(silence.id)", doneAt: nowMs, on: connection)
        }
        return try order.map { group in
            var rows = groups[group]!
            // A message tried before goes again whole, under its id: a receiver drops a repeated id,
            // so the second try must not hold less (or more) than the first.
            if let messageId = rows[0].messageId {
                rows = try NotifierStore.retrying(messageId: messageId, on: connection)
            }
            // A new message takes the notices for the same recipient and channel that would fall
            // due within one group wait (as an Alertmanager group does once its first alert is
            // due); notices held for quiet hours stay held.
            if rows[0].messageId == nil {
                let taken = Set(rows.map(\.id))
                let horizon = nowMs + Int64(rules.groupWait * 1000)
                let more = try NotifierStore.waiting(
                    recipient: rows[0].recipient.id,
                    channel: rows[0].channel,
                    dueBy: horizon,
                    limit: perMessage,
                    on: connection
                )
                rows += more.filter { row in !taken.contains(row.id) && !silences.contains { $0.matches(row) } }.prefix(perMessage - rows.count)
            }
            let messageId = rows[0].messageId ?? "m-" + rows[0].notificationId.dropFirst(2)
            let attempt = (rows.map(\.attempts).max() ?? 0) + 1
            try NotifierStore.update(rows.map(\.id), status: .sending, attempts: attempt, messageId: messageId, on: connection)
            return Batch(messageId: messageId, rows: rows, attempt: attempt)
        }
    }

    func envelope(_ batch: Batch, channel: any NotificationChannel) -> Envelope {
        let recipient = batch.rows[0].recipient
        let summaries = batch.rows.map { row in
            NoticeSummary(
                id: row.notificationId,
                incidentId: row.incident,
                type: row.type,
                text: Templates.line(type: row.type, facts: row.facts, language: recipient.language),
                facts: row.facts
            )
        }
        let message = Templates.message(lines: summaries.map(\.text), style: channel.style, language: recipient.language)
        return Envelope(
            messageId: batch.messageId,
            channel: channel.name,
            recipient: recipient,
            address: recipient.address(for: channel.contact) ?? "",
            subject: message.subject,
            text: message.text,
            notifications: summaries,
            attempt: batch.attempt
        )
    }

    /// Every channel works through its messages with its own concurrency; channels run side by side.
    func send(_ batches: [Batch]) async -> [(Batch, DeliveryOutcome)] {
        let byChannel = Dictionary(grouping: batches) { $0.rows[0].channel }
        return await withTaskGroup(of: [(Batch, DeliveryOutcome)].self) { group in
            for (name, batches) in byChannel {
                guard let channel = channels[name] else {
                    group.addTask { batches.map { ($0, DeliveryOutcome.failed("no channel '\(name)' any more")) } }
                    continue
                }
                group.addTask { [self] in
                    await withTaskGroup(of: (Batch, DeliveryOutcome).self) { sends in
                        var results: [(Batch, DeliveryOutcome)] = []
                        var next = batches.makeIterator()
                        for _ in 0..<max(1, channel.concurrency) {
                            guard let batch = next.next() else { break }
                            sends.addTask { (batch, await channel.deliver(self.envelope(batch, channel: channel))) }
                        }
                        while let result = await sends.next() {
                            results.append(result)
                            if let batch = next.next() { sends.addTask { (batch, await channel.deliver(self.envelope(batch, channel: channel))) } }
                        }
                        return results
                    }
                }
            }
            var all: [(Batch, DeliveryOutcome)] = []
            for await results in group { all += results }
            return all
        }
    }

    /// Returns true when a message failed for good (its fallback is due now).
    @discardableResult
    func record(_ outcomes: [(Batch, DeliveryOutcome)], at now: Date) async throws -> Bool {
        let nowMs = now.millisecondsSince1970
        return try await runtime.write { [self] connection, outbox in
            var failedForGood = false
            for (batch, outcome) in outcomes {
                let ids = batch.rows.map(\.id)
                switch outcome {
                case .delivered(let providerId):
                    try NotifierStore.update(ids, status: .sent, providerId: providerId, doneAt: nowMs, on: connection)
                    for row in batch.rows {
                        try outbox.enqueue(
                            TypedEvent(
                                id: "\(row.notificationId)-sent",
                                source: Self.source,
                                payload: NotificationSent(
                                    notificationId: row.notificationId,
                                    incidentId: row.incident,
                                    recipient: row.recipient.id,
                                    channel: row.channel,
                                    attempts: batch.attempt,
                                    latencyMs: Int(max(0, nowMs - row.createdAt))
                                ),
                                subject: row.incident,
                                grid: row.grid,
                                time: now
                            )
                        )
                    }
                case .retry(let reason):
                    let giveUpAt = (batch.rows.map(\.createdAt).min() ?? nowMs) + Int64(rules.retry.deadline * 1000)
                    let next = nowMs + Int64(rules.retry.delay(afterAttempt: batch.attempt, jitter: jitter()) * 1000)
                    if next <= giveUpAt {
                        try NotifierStore.update(ids, status: .retry, dueAt: next, detail: reason, on: connection)
                        logger.info(
                            "delivery will be tried again",
                            metadata: ["message": "\(batch.messageId)", "attempt": "\(batch.attempt)", "reason": "\(reason)"]
                        )
                    } else {
                        try fail(batch, reason: "gave up after \(batch.attempt) attempts: \(reason)", at: now, connection: connection, outbox: outbox)
                        failedForGood = true
                    }
                case .failed(let reason):
                    try fail(batch, reason: reason, at: now, connection: connection, outbox: outbox)
                    failedForGood = true
                }
            }
            return failedForGood
        }
    }

    /// A channel failed for good: `notification.failed`, then the recipient's next channel, and
    /// when there is none, the grid chief.
    func fail(_ batch: Batch, reason: String, at now: Date, connection: SQLiteConnection, outbox: OutboxWriter) throws {
        try NotifierStore.update(batch.rows.map(\.id), status: .failed, detail: reason, doneAt: now.millisecondsSince1970, on: connection)
        logger.warning("delivery failed", metadata: ["message": "\(batch.messageId)", "channel": "\(batch.rows[0].channel)", "reason": "\(reason)"])
        for row in batch.rows {
            try publishFailure(row, attempts: batch.attempt, reason: reason, outbox: outbox, at: now)
            let reachable = channelList(row.recipient)
            if let position = reachable.firstIndex(where: { $0.name == row.channel }), position + 1 < reachable.count {
                var next = row
                next.key = "\(row.key)#\(reachable[position + 1].name)"
                next.notificationId = "n-" + String(SHA256.hex(Array(next.key.utf8)).prefix(20))
                next.channelIndex = position + 1
                next.channel = reachable[position + 1].name
                next.status = .pending
                next.dueAt = now.millisecondsSince1970
                next.attempts = 0
                next.messageId = nil
                next.detail = "fallback after \(row.channel) failed"
                _ = try NotifierStore.insert(next, on: connection)
            } else if row.recipient.role != Member.Role.gridChief.rawValue, row.recipient.role != "operator", let grid = row.grid {
                let facts = try row.incident.flatMap { try NotifierStore.incident($0, on: connection) }
                for chief in district.members(of: grid).filter({ $0.role == .gridChief }) {
                    var data: [String: JSONValue] = [:]
                    for (key, value) in row.facts { data[key] = .string(value) }
                    let notice = Notice(
                        type: row.type,
                        state: "fallback:\(row.key)",
                        incidentId: row.incident,
                        facts: facts,
                        data: data,
                        urgent: true
                    )
                    try plan(notice, for: recipient(chief), at: now, connection: connection, outbox: outbox)
                }
            }
        }
    }

    func publishFailure(_ row: DeliveryRow, attempts: Int, reason: String, outbox: OutboxWriter, at now: Date) throws {
        try outbox.enqueue(
            TypedEvent(
                id: "\(row.notificationId)-failed",
                source: Self.source,
                payload: NotificationFailed(
                    notificationId: row.notificationId,
                    incidentId: row.incident,
                    recipient: row.recipient.id,
                    channel: row.channel,
                    attempts: max(1, attempts),
                    reason: String(reason.prefix(1000))
                ),
                subject: row.incident,
                grid: row.grid,
                time: now
            )
        )
    }

    // MARK: Silences and the log

    public func addSilence(_ matchers: Silence.Matchers, until endsAt: Date, by createdBy: String, comment: String?) async throws -> Silence {
        let now = self.now()
        let silence = Silence(
            id: "s-" + String(UUID().uuidString.prefix(8)).lowercased(),
            matchers: matchers,
            startsAt: now,
            endsAt: endsAt,
            createdBy: createdBy,
            comment: comment
        )
        try await runtime.write { connection, _ in try NotifierStore.saveSilence(silence, on: connection) }
        logger.notice("silence created", metadata: ["silence": "\(silence.id)", "by": "\(createdBy)", "until": "\(RFC3339.format(endsAt))"])
        return silence
    }

    public func silences(includeExpired: Bool) async throws -> [Silence] {
        let now = self.now().millisecondsSince1970
        return try await runtime.read { try NotifierStore.silences(activeAt: includeExpired ? nil : now, on: $0) }
    }

    /// Ends a silence now; false when there is no such silence.
    public func expireSilence(_ id: String) async throws -> Silence? {
        let now = self.now()
        return try await runtime.write { connection, _ -> Silence? in
            guard var silence = try NotifierStore.silences(activeAt: nil, on: connection).first(where: { $0.id == id }) else { return nil }
            if silence.endsAt > now { silence.endsAt = now }
            try NotifierStore.saveSilence(silence, on: connection)
            return silence
        }
    }

    /// What the log holds for an incident: who was told what, how, and how it went.
    public struct LogEntry: Sendable, Encodable {
        public var notificationId: String
        public var recipient: String
        public var type: String
        public var channel: String
        public var status: String
        public var attempts: Int
        public var messageId: String?
        public var detail: String?
    }

    /// A reminder still to come: an unacknowledged dispatch's assignee, how many reminders they
    /// had and have left, and when the next is due.
    public struct WaitingReminder: Sendable, Encodable, Equatable {
        public var incident: String
        public var recipient: String
        public var dispatch: String
        public var sent: Int
        public var left: Int
        public var nextAt: String
    }

    /// `GET /v1/reminders`: soonest first, at most `limit`, of `incident`, `recipient`, or everyone.
    public func waitingReminders(incident: String? = nil, recipient: String? = nil, limit: Int = 100) async throws -> [WaitingReminder] {
        let repeatLimit = rules.repeatLimit
        return try await runtime.read { connection in
            try NotifierStore.waitingReminders(incident: incident, recipient: recipient, limit: limit, on: connection).map { found in
                WaitingReminder(
                    incident: found.reminder.incident,
                    recipient: found.reminder.recipientId,
                    dispatch: found.reminder.dispatch,
                    sent: found.reminder.count,
                    left: max(0, repeatLimit - found.reminder.count),
                    nextAt: RFC3339.format(Date(timeIntervalSince1970: Double(found.nextAt) / 1000))
                )
            }
        }
    }

    public func log(incident: String) async throws -> [LogEntry] {
        try await runtime.read { connection in
            try NotifierStore.rows(incident: incident, on: connection).map {
                LogEntry(
                    notificationId: $0.notificationId,
                    recipient: $0.recipient.id,
                    type: $0.type,
                    channel: $0.channel,
                    status: $0.status.rawValue,
                    attempts: $0.attempts,
                    messageId: $0.messageId,
                    detail: $0.detail
                )
            }
        }
    }
}
