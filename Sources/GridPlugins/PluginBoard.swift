import CoreMetrics
import GridSchema
import Synchronization

/// Plugin states as `gridctl status` and `/metrics` show them; written by the supervisor thread only.
public final class PluginBoard: Sendable {
    public enum State: String, Sendable, CaseIterable {
        case starting, running, restarting, stopping, stopped, exited, failed
    }

    /// Each metric's help text, by label, for `/metrics`.
    public static let help: [String: String] = [
        "gridbus_plugin_state": "1 for the plugin's current state, 0 for the others.",
        "gridbus_plugin_up": "1 while the plugin runs.",
        "gridbus_plugin_restarts_total": "Restarts of the plugin by the supervisor.",
        "gridbus_plugin_exits_total": "Exits of the plugin: crashes, failures and stops.",
        "gridbus_plugin_active": "1 while the plugin runs and is not a standby (an instance sharing its store says which it is), 0 otherwise.",
        "gridbus_plugin_takeovers_total": "Times the plugin, having waited as a standby, reported becoming the active instance.",
    ]

    private let entries: Mutex<[BusStatus.Plugin]>
    private let factory: any MetricsFactory

    public init(names: [String], factory: any MetricsFactory) {
        self.factory = factory
        entries = Mutex(names.map { BusStatus.Plugin(name: $0, state: State.starting.rawValue, pid: nil, restarts: 0, exits: 0, lastExit: nil) })
        for name in names {
            record(name, .starting)
            // Created now so that the series exist (at zero) before the first restart.
            _ = Counter(label: "gridbus_plugin_restarts_total", dimensions: [("plugin", name)], factory: factory)
            _ = Counter(label: "gridbus_plugin_exits_total", dimensions: [("plugin", name)], factory: factory)
            _ = Counter(label: "gridbus_plugin_takeovers_total", dimensions: [("plugin", name)], factory: factory)
        }
    }

    public var plugins: [BusStatus.Plugin] { entries.withLock { $0 } }

    func set(_ name: String, _ state: State, pid: Int32? = nil) {
        entries.withLock { all in
            guard let index = all.firstIndex(where: { $0.name == name }) else { return }
            all[index].state = state.rawValue
            all[index].pid = pid
            // What a run reported ends with it; only a stopping plugin still is what it said.
            if state != .stopping { (all[index].status, all[index].role, all[index].epoch) = (nil, nil, nil) }
        }
        record(name, state)
        // A plugin that says nothing of a role is its own only instance: active while it runs.
        if state != .stopping { active(name, state == .running) }
    }

    /// A running plugin's notification (``NotifySocket``): `STATUS`, `X_GRIDBUS_ROLE`, `X_GRIDBUS_EPOCH`.
    func reported(_ name: String, _ fields: [String: String]) {
        let role = fields["X_GRIDBUS_ROLE"].flatMap { $0 == "active" || $0 == "standby" ? $0 : nil }
        let tookOver = entries.withLock { all in
            guard let index = all.firstIndex(where: { $0.name == name }) else { return false }
            let before = all[index].role
            if let status = fields["STATUS"] { all[index].status = status }
            if let role { all[index].role = role }
            if let epoch = fields["X_GRIDBUS_EPOCH"].flatMap(Int64.init) { all[index].epoch = epoch }
            return before == "standby" && role == "active"
        }
        if let role { active(name, role == "active") }
        if tookOver { Counter(label: "gridbus_plugin_takeovers_total", dimensions: [("plugin", name)], factory: factory).increment() }
    }

    private func active(_ name: String, _ isActive: Bool) {
        Gauge(label: "gridbus_plugin_active", dimensions: [("plugin", name)], factory: factory).record(isActive ? 1 : 0)
    }

    func exited(_ name: String, _ description: String) {
        entries.withLock { all in
            guard let index = all.firstIndex(where: { $0.name == name }) else { return }
            all[index].exits += 1
            all[index].lastExit = description
        }
        Counter(label: "gridbus_plugin_exits_total", dimensions: [("plugin", name)], factory: factory).increment()
    }

    func restarted(_ name: String) {
        entries.withLock { all in
            guard let index = all.firstIndex(where: { $0.name == name }) else { return }
            all[index].restarts += 1
        }
        Counter(label: "gridbus_plugin_restarts_total", dimensions: [("plugin", name)], factory: factory).increment()
    }

    /// One gauge per state, 1 for the current one: alert rules can match `state="failed"`.
    private func record(_ name: String, _ state: State) {
        for candidate in State.allCases {
            Gauge(label: "gridbus_plugin_state", dimensions: [("plugin", name), ("state", candidate.rawValue)], factory: factory)
                .record(candidate == state ? 1 : 0)
        }
        Gauge(label: "gridbus_plugin_up", dimensions: [("plugin", name)], factory: factory).record(state == .running ? 1 : 0)
    }
}
