import Foundation
import GridBusClient
import GridDistrict
import GridJSON
import GridSchema
import GridStore
import Logging

// Timers: escalation when nobody acknowledges, overdue and reminders.
extension Dispatcher {
    /// Fires every timer due at the injected clock's now: escalation when nobody acknowledged,
    /// overdue and escalation when the deadline passed, then reminders at the priority's interval.
    /// Timers live in the store, so a restart resumes them exactly where they were.
    @discardableResult
    public func sweep() async throws -> Int {
        let now = self.now()
        let district = self.district
        return try await runtime.write { [self] connection, outbox -> Int in
            let due = try DispatcherStore.due(at: now, limit: 500, on: connection)
            for var item in due {
                guard let timer = item.timer, item.isOpen else {
                    item.timer = nil
                    item.timerAt = nil
                    try DispatcherStore.save(item, on: connection)
                    continue
                }
                // The first time a handling deadline fires, the case is overdue; later firings are reminders.
                if timer == .handle, item.reminders == 0, let deadline = item.deadline {
                    try emit(IncidentOverdue(incidentId: item.id, stage: "handle", deadline: deadline), for: &item, at: now, outbox)
                }
                let ladder = settings.escalation.ladder(of: item)
                let level = ladder[min(item.escalationLevel + 1, ladder.count - 1)]
                let targets = escalationTargets(level: level, grid: item.grid, district: district)
                let reason = timer == .acknowledge ? "not acknowledged by the deadline" : "not handled by the deadline"
                try emit(
                    IncidentEscalated(incidentId: item.id, level: level, to: targets, reason: item.reminders == 0 ? reason : "reminder: \(reason)"),
                    for: &item,
                    at: now,
                    outbox
                )
                try DispatcherStore.save(item, on: connection)
            }
            return due.count
        }
    }

    /// Great-circle distance (haversine), in meters.
    static func meters(_ a: GeoPoint, _ b: GeoPoint) -> Double {
        let radians = Double.pi / 180
        let dLatitude = (b.latitude - a.latitude) * radians
        let dLongitude = (b.longitude - a.longitude) * radians
        let h =
            sin(dLatitude / 2) * sin(dLatitude / 2)
            + cos(a.latitude * radians) * cos(b.latitude * radians) * sin(dLongitude / 2) * sin(dLongitude / 2)
        return 2 * 6_371_000 * asin(min(1, h.squareRoot()))
    }

    /// Members of the grid in that role; beyond the roster, the community or the town itself.
    func escalationTargets(level: String, grid: String?, district: District) -> [String] {
        guard let grid, let place = district.gridsByID[grid] else { return [level] }
        switch level {
        case "community": return ["community:\(place.community)"]
        case "town": return ["town:\(place.town)"]
        default:
            let members = district.members(of: grid).filter { $0.role.rawValue == level }.map(\.id)
            return members.isEmpty ? ["\(level):\(grid)"] : members
        }
    }
}
