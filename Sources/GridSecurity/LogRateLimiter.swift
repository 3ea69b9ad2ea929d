/// Keeps a hostile or broken peer from flooding the log: at most `burst` lines per key in each
/// `interval`; the first line after a quiet window says how many were suppressed.
///
/// Time comes from the caller (seconds on any monotonic clock), so tests drive it directly.
public struct LogRateLimiter: Sendable {
    public enum Decision: Equatable, Sendable {
        case log(suppressedBefore: Int)
        case suppress
    }

    private struct Window {
        var start: Double
        var logged: Int
        var suppressed: Int
    }

    public let burst: Int
    public let interval: Double
    private let maxKeys: Int
    private var windows: [String: Window] = [:]

    public init(burst: Int = 5, interval: Double = 60, maxKeys: Int = 1024) {
        self.burst = burst
        self.interval = interval
        self.maxKeys = maxKeys
    }

    public mutating func decide(key: String, now: Double) -> Decision {
        if var window = windows[key], now - window.start < interval {
            guard window.logged < burst else {
                window.suppressed += 1
                windows[key] = window
                return .suppress
            }
            window.logged += 1
            windows[key] = window
            return .log(suppressedBefore: 0)
        }
        let suppressed = windows[key]?.suppressed ?? 0
        if windows.count >= maxKeys {
            // Many distinct peers: forget expired windows; if all are live, forget them all (rare, and only costs log lines).
            windows = windows.filter { now - $0.value.start < interval }
            if windows.count >= maxKeys { windows.removeAll() }
        }
        windows[key] = Window(start: now, logged: 1, suppressed: 0)
        return .log(suppressedBefore: suppressed)
    }
}
