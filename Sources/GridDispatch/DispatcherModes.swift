import Foundation
import GridBusClient
import GridDistrict
import GridJSON
import GridSchema
import GridStore
import Logging

// Emergency mode: a grid, community, town or the district switched, and what it changes.
extension Dispatcher {
    public struct ModeChange: Sendable, Encodable {
        public let scope: String
        public let target: String
        public let mode: String
        public let openCases: Int
        /// What happens to the cases already open: the policy applies to new incidents only.
        public let note: String
    }

    /// Switches a grid, community, town or the district to emergency mode or back, and publishes
    /// `grid.mode.changed`. New incidents there follow the emergency policy (everyone on the roster,
    /// urgent limits on natural time, faster escalation); open cases keep what they have.
    public func setMode(
        scope: GridModeChanged.Scope,
        target: String,
        mode: GridModeChanged.Mode,
        by: String,
        reason: String?
    ) async throws
        -> Result<ModeChange, FieldError>
    {
        let known: Bool
        switch scope {
        case .grid: known = district.gridsByID[target] != nil
        case .community: known = district.grids.contains { $0.community == target }
        case .town: known = district.grids.contains { $0.town == target }
        case .district: known = district.grids.contains { $0.district == target }
        }
        guard known else { return .failure(FieldError("target", "no \(scope.rawValue) '\(target)' in the district")) }
        let now = self.now()
        return .success(
            try await runtime.write { connection, outbox in
                try DispatcherStore.setMode(scope: scope.rawValue, target: target, emergency: mode == .emergency, by: by, at: now, on: connection)
                try outbox.enqueue(
                    TypedEvent(
                        id: "mode-\(scope.rawValue)-\(target)-\(now.millisecondsSince1970)",
                        source: Self.source,
                        payload: GridModeChanged(scope: scope, target: target, mode: mode, by: by, reason: reason),
                        grid: scope == .grid ? target : nil,
                        time: now
                    )
                )
                let open = try DispatcherStore.openCount(on: connection)
                let note =
                    mode == .emergency
                    ? "new incidents here go to everyone on the roster, with urgent limits on natural time and reminders every \(Int(self.settings.escalation.emergencyMode.remind))s; the \(open) open cases keep their assignees and limits"
                    : "new incidents here follow the normal policy again; the \(open) open cases keep their assignees and limits"
                return ModeChange(scope: scope.rawValue, target: target, mode: mode.rawValue, openCases: open, note: note)
            }
        )
    }

    func isEmergency(grid: String, on connection: any StoreConnection) throws -> Bool {
        let places = try DispatcherStore.emergencies(on: connection)
        guard !places.isEmpty, let place = district.gridsByID[grid] else { return false }
        return places.contains("grid:\(grid)") || places.contains("community:\(place.community)") || places.contains("town:\(place.town)")
            || places.contains("district:\(place.district)")
    }
}
