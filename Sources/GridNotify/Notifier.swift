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
}
