/// Decides what follows a plugin's exit: restart after a back-off, stay down, or give up.
///
/// Times are seconds on a monotonic clock passed in by the caller, so tests drive it directly.
public struct RestartTracker: Sendable {
    public enum Decision: Equatable, Sendable {
        case restart(after: Double)
        /// The policy says not to restart (a clean exit with on-failure, any exit with never).
        case stay
        /// Too many crashes in the window: the plugin is marked failed and left down.
        case giveUp(crashes: Int, window: Double)
    }

    let manifest: PluginManifest
    private var crashTimes: [Double] = []
    private var consecutiveFailures = 0

    public init(manifest: PluginManifest) { self.manifest = manifest }

    /// - Parameters:
    ///   - success: exit status 0.
    ///   - ranFor: how long this run lasted; a run as long as the give-up window resets the back-off.
    public mutating func exited(success: Bool, ranFor: Double, at now: Double) -> Decision {
        if ranFor >= manifest.giveUpWindow { consecutiveFailures = 0 }
        switch (manifest.restart, success) {
        case (.never, _), (.onFailure, true): return .stay
        case (.always, true): return .restart(after: manifest.backoffInitial)
        case (.always, false), (.onFailure, false): break
        }
        crashTimes.append(now)
        crashTimes.removeAll { now - $0 > manifest.giveUpWindow }
        if crashTimes.count >= manifest.giveUpCrashes { return .giveUp(crashes: crashTimes.count, window: manifest.giveUpWindow) }
        let delay = min(manifest.backoffInitial * Double(1 << min(consecutiveFailures, 30)), manifest.backoffMax)
        consecutiveFailures += 1
        return .restart(after: delay)
    }
}
