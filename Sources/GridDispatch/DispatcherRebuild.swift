import Foundation
import GridJSON
import GridSchema
import GridStore

/// Rebuilds the dispatcher's state from the journal: the reports it consumed, the events it
/// published about cases, and its mode switches, in journal order. The events are applied by the
/// same `CaseEvent` projection the live dispatcher uses, so the rebuilt cases, emergency places
/// and round-robin turns equal the live ones.
///
/// Not rebuilt: the `Idempotency-Key`s of HTTP requests (they are not events); a request retried
/// across a rebuild is applied again if the lifecycle allows it.
public struct DispatcherRebuild: Sendable {
    public struct Summary: Sendable, Equatable {
        public var events = 0
        public var cases = 0
        /// Events about a case the journal never reported (its report was trimmed from the journal).
        public var orphans = 0
        public var duplicates = 0
        /// Steps that reached the journal before an earlier step of their case (a publish retried
        /// after a NACK can be journaled after a later one), waiting for it by case id and step.
        /// Empty at the end of a complete journal.
        public var held: [String: [Int: [UInt8]]] = [:]
        public var heldCount: Int { held.values.reduce(0) { $0 + $1.count } }
        public init() {}
    }

    let rules: EscalationRules

    public init(settings: DispatchSettings) { rules = settings.escalation }

    /// Applies one journaled event to the store being rebuilt; events of other kinds are ignored.
    public func apply(_ bytes: [UInt8], on connection: any StoreConnection, summary: inout Summary) throws {
        let event = try CloudEvent.decode(bytes)
        summary.events += 1
        if event.type == EventType.incidentReported.rawValue {
            let report = try event.payload(as: IncidentReported.self)
            // Once per incident, as live (`Dispatcher.register`).
            guard try DispatcherStore.load(report.incidentId, on: connection) == nil else { return }
            try DispatcherStore.save(DispatchCase(reported: report), on: connection)
            summary.cases += 1
            return
        }
        guard event.source == Dispatcher.source else { return }
        if event.type == EventType.gridModeChanged.rawValue {
            let change = try event.payload(as: GridModeChanged.self)
            let time = event.time.flatMap(RFC3339.parse) ?? Date(timeIntervalSince1970: 0)
            return try DispatcherStore.setMode(
                scope: change.scope.rawValue,
                target: change.target,
                emergency: change.mode == .emergency,
                by: change.by,
                at: time,
                on: connection
            )
        }
        guard let type = CaseEvents.byType[event.type], let id = event.subject else { return }
        guard var item = try DispatcherStore.load(id, on: connection) else {
            summary.orphans += 1
            return
        }
        // Event ids number each case's events; one seen before (a republished outbox row) changes
        // nothing, and one ahead of the next step waits for it: steps apply in their order.
        guard let number = CaseStep.number(ofEventID: event.id, incident: id), number > item.emitted else {
            summary.duplicates += 1
            return
        }
        guard number == item.emitted + 1 else {
            summary.held[id, default: [:]][number] = bytes
            return
        }
        let time = event.time.flatMap(RFC3339.parse) ?? item.reportedAt
        try apply(type, event, to: &item, at: time, connection: connection)
        item.emitted = number
        try DispatcherStore.save(item, on: connection)
        if let next = summary.held[id]?.removeValue(forKey: number + 1) {
            if summary.held[id]?.isEmpty == true { summary.held[id] = nil }
            summary.events -= 1  // counted when it arrived
            try apply(next, on: connection, summary: &summary)
        }
    }

    private func apply<Event: CaseEvent>(
        _ type: Event.Type,
        _ event: CloudEvent,
        to item: inout DispatchCase,
        at time: Date,
        connection: any StoreConnection
    ) throws {
        let payload = try event.payload(as: type)
        payload.apply(to: &item, at: time, rules: rules)
        // The round-robin turns advance with each dispatch the strategy made (Assigner).
        if let dispatched = payload as? IncidentDispatched, dispatched.policy == AssignmentStrategy.roundRobin.rawValue, let grid = item.grid {
            let key = Assigner.turnKey(grid: grid, role: dispatched.role)
            var turns = try DispatcherStore.turns(on: connection)
            turns[key, default: 0] += 1
            try DispatcherStore.saveTurns([key: turns[key]!], on: connection)
        }
    }

    /// Where two stores differ: cases, emergency places and turns. Empty when they are equal.
    public static func differences(live: Snapshot, rebuilt: Snapshot) -> [String] {
        var found: [String] = []
        for id in Set(live.cases.keys).union(rebuilt.cases.keys).sorted() where live.cases[id] != rebuilt.cases[id] {
            switch (live.cases[id], rebuilt.cases[id]) {
            case (nil, _): found.append("case \(id): only in the rebuilt store")
            case (_, nil): found.append("case \(id): only in the live store")
            case (let a?, let b?): found.append("case \(id): \(DispatchCase.fieldsDiffering(a, b).joined(separator: ", ")) differ")
            }
        }
        if live.emergencies != rebuilt.emergencies {
            found.append("emergency places differ: \(live.emergencies.sorted()) live, \(rebuilt.emergencies.sorted()) rebuilt")
        }
        if live.turns != rebuilt.turns { found.append("round-robin turns differ") }
        return found
    }

    /// The state a rebuild restores, read from a store.
    public struct Snapshot: Sendable, Equatable {
        public var cases: [String: DispatchCase]
        public var emergencies: Set<String>
        public var turns: [String: Int]

        public static func read(_ connection: any StoreConnection) throws -> Snapshot {
            Snapshot(
                cases: try DispatcherStore.all(on: connection),
                emergencies: try DispatcherStore.emergencies(on: connection),
                turns: try DispatcherStore.turns(on: connection)
            )
        }
    }
}

extension DispatchCase {
    /// A case as a report first makes it: waiting, outside any grid until registered.
    init(reported report: IncidentReported) {
        self.init(
            id: report.incidentId,
            state: .reported,
            category: report.category,
            grid: report.grid,
            priority: report.priority,
            location: report.location,
            reportedAt: report.reportedAt,
            registeredAt: nil,
            deadline: nil,
            acknowledgeBy: nil,
            assignees: [],
            role: nil,
            escalationLevel: 0,
            timer: nil,
            timerAt: nil,
            reminders: 0,
            returns: 0,
            triage: true,
            emergency: false,
            closedAt: nil,
            emitted: 0
        )
    }

    /// Names of the fields in which two cases differ.
    static func fieldsDiffering(_ a: DispatchCase, _ b: DispatchCase) -> [String] {
        let encoder = JSONTreeEncoder()
        guard case .object(let left)? = try? JSONValue(parsing: encoder.encode(a)),
            case .object(let right)? = try? JSONValue(parsing: encoder.encode(b))
        else { return ["(unreadable)"] }
        return Set(left.keys).union(right.keys).sorted().filter { left[$0] != right[$0] }
    }
}
