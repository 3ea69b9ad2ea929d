import Foundation
import GridBusClient
import GridDistrict
import GridJSON
import GridSchema
import GridStore
import Logging

// Actions: handlers' and operators' steps through the lifecycle table.
extension Dispatcher {
    /// A handler's or operator's action, through the lifecycle table; idempotent by `requestKey`
    /// when given (a retried request answers with the case as it is).
    public func act(_ id: String, _ action: CaseAction, _ input: ActionInput, requestKey: String? = nil) async throws -> ActOutcome {
        let outcome = try await apply(action, to: id, input, requestKey: requestKey)
        metrics.count(action, outcome)
        return outcome
    }

    private func apply(_ action: CaseAction, to id: String, _ input: ActionInput, requestKey: String?) async throws -> ActOutcome {
        let now = self.now()
        let district = self.district
        return try await runtime.write { [self] connection, outbox -> ActOutcome in
            guard var item = try DispatcherStore.load(id, on: connection) else { return .notFound }
            if let requestKey, !(try DispatcherStore.firstTime("request \(id) \(requestKey)", at: now, on: connection)) { return .done(item) }
            do throws(IllegalAction) { _ = try Lifecycle.apply(action, to: item.state) } catch { return .illegal(error) }
            if action == .reopen, let closedAt = item.closedAt, now.timeIntervalSince(closedAt) > settings.reopenDays * 86400 {
                return .invalid(FieldError("action", "closed more than \(Int(settings.reopenDays)) days ago; it can no longer be reopened"))
            }
            // Each action emits its events; the events move the case (CaseProjection).
            switch action {
            case .acknowledge:
                try emit(IncidentAcknowledged(incidentId: id, by: input.by, note: input.note), for: &item, at: now, outbox)
            case .start:
                try emit(IncidentStarted(incidentId: id, by: input.by, note: input.note), for: &item, at: now, outbox)
            case .handle:
                guard let note = input.note, !note.isEmpty else { return .invalid(FieldError("note", "say what was done")) }
                try emit(
                    IncidentHandled(incidentId: id, by: input.by, note: note, photoUrls: input.photoURLs.isEmpty ? nil : input.photoURLs),
                    for: &item,
                    at: now,
                    outbox
                )
            case .verifyPass, .verifyFail:
                try emit(IncidentVerified(incidentId: id, by: input.by, passed: action == .verifyPass, note: input.note), for: &item, at: now, outbox)
            case .claim:
                guard item.role == "volunteer", item.assignees.isEmpty else {
                    return .illegal(
                        IllegalAction(state: item.state, action: action, allowed: Lifecycle.allowed(in: item.state).filter { $0 != .claim })
                    )
                }
                guard let grid = item.grid, district.members(of: grid).contains(where: { $0.id == input.by && Self.volunteerRoles.contains($0.role) })
                else {
                    return .invalid(FieldError("by", "'\(input.by)' is not a volunteer (resident or part-time member) of the grid"))
                }
                try emit(
                    IncidentDispatched(
                        incidentId: id,
                        assignees: [input.by],
                        role: "volunteer",
                        acknowledgeBy: now,
                        deadline: item.deadline ?? now,
                        policy: IncidentDispatched.claimed
                    ),
                    for: &item,
                    at: now,
                    outbox
                )
            case .close:
                let onTime = item.deadline.map { now <= $0 } ?? true
                let points = item.role == "volunteer" ? Dictionary(uniqueKeysWithValues: item.assignees.map { ($0, settings.volunteerPoints) }) : nil
                try emit(IncidentClosed(incidentId: id, by: input.by, onTime: onTime, points: points), for: &item, at: now, outbox)
            case .reopen:
                guard let reason = input.reason, !reason.isEmpty else { return .invalid(FieldError("reason", "say why it is reopened")) }
                try emit(IncidentReopened(incidentId: id, by: input.by, reason: reason), for: &item, at: now, outbox)
            case .suspend:
                try emit(IncidentSuspended(incidentId: id, by: input.by, note: input.note), for: &item, at: now, outbox)
            case .resume:
                try emit(IncidentResumed(incidentId: id, by: input.by, note: input.note), for: &item, at: now, outbox)
            case .extend:
                guard let deadline = input.deadline, deadline > (item.deadline ?? now) else {
                    return .invalid(FieldError("deadline", "a new deadline later than the current one is required"))
                }
                try emit(IncidentExtended(incidentId: id, by: input.by, deadline: deadline, reason: input.reason ?? ""), for: &item, at: now, outbox)
            case .returnAsWronglyDispatched:
                guard let reason = input.reason, !reason.isEmpty else { return .invalid(FieldError("reason", "say why it is not yours")) }
                // Not theirs: whoever returned it, or, returned on their behalf, everyone it was with.
                // (In emergency mode a case is with the whole roster; one member's return leaves it with the rest.)
                let excluded: Set<String> = item.assignees.contains(input.by) ? [input.by] : Set(item.assignees)
                try emit(IncidentReturned(incidentId: id, by: input.by, reason: reason), for: &item, at: now, outbox)
                // Dispatched again at once, to someone else.
                if let grid = item.grid, let category = district.categoriesByCode[item.category] {
                    try dispatch(&item, category: category, grid: grid, at: now, excluding: excluded, connection: connection, outbox: outbox)
                }
            case .place:
                guard item.triage else { return .illegal(IllegalAction(state: item.state, action: action, allowed: [])) }
                guard let grid = input.grid, district.gridsByID[grid] != nil else {
                    return .invalid(FieldError("grid", "'\(input.grid ?? "")' is not a grid of the district"))
                }
                guard let category = district.categoriesByCode[item.category] else { return .invalid(FieldError("category", "unknown category")) }
                try registerInGrid(&item, category: category, grid: grid, at: now, connection: connection, outbox: outbox)
            case .register, .reject, .merge, .dispatch:
                return .invalid(FieldError("action", "'\(action.rawValue)' is the dispatcher's own step, not a handler's action"))
            }
            try DispatcherStore.save(item, on: connection)
            return .done(item)
        }
    }
}
