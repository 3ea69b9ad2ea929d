import Foundation
import GridConfiguration
import GridSchema

/// Which events a route takes: every field given must match (lists: any of them; prefixes for
/// category and grid).
public struct RouteMatch: Sendable, Equatable {
    public var types: [String] = []
    public var priorities: [Priority] = []
    public var categoryPrefix: String?
    public var gridPrefix: String?
    public init() {}

    func matches(type: String, priority: Priority?, category: String?, grid: String?) -> Bool {
        (types.isEmpty || types.contains(type))
            && (priorities.isEmpty || priority.map(priorities.contains) == true)
            && (categoryPrefix.map { category?.hasPrefix($0) == true } ?? true)
            && (gridPrefix.map { grid?.hasPrefix($0) == true } ?? true)
    }
}

/// One node of the routing list: who hears of the events it matches. The first matching route
/// decides, unless it says `continue`, as in Alertmanager.
public struct Route: Sendable, Equatable {
    public var match: RouteMatch
    /// Recipient selectors: `assignees`, `escalation-targets`, `reporter`, `operators`, a role of
    /// the grid (`grid-chief`, `instructor`, `grid-worker`, …), or a member id (`m-00042`).
    public var to: [String]
    public var `continue`: Bool

    public init(match: RouteMatch, to: [String], continue: Bool) {
        self.match = match
        self.to = to
        self.continue = `continue`
    }
}

/// Someone who is not on a grid's roster but hears of what happens: duty officers, the command centre.
public struct Operator: Sendable, Equatable {
    public var id: String
    public var name: String
    public var language: String
    public var phone: String?
    public var email: String?
    public var webhook: String?
    /// Grids, communities or towns they cover (`*`: all); ids or prefixes.
    public var places: [String]

    func covers(grid: DistrictPlace?) -> Bool {
        places.contains("*")
            || grid.map { place in places.contains { [place.grid, place.community, place.town].contains($0) || place.grid.hasPrefix($0) } } ?? false
    }
}

/// A grid and the places above it.
struct DistrictPlace: Sendable {
    var grid: String
    var community: String
    var town: String
    var district: String
}

/// A daily quiet window, `22:00-07:00`, in minutes after midnight (it may wrap past midnight).
public struct QuietHours: Sendable, Equatable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    public static func parse(_ text: String) -> QuietHours? {
        let parts = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let start = minutes(parts[0]), let end = minutes(parts[1]), start != end else { return nil }
        return QuietHours(start: start, end: end)
    }

    static func minutes(_ text: String) -> Int? {
        let pieces = text.split(separator: ":")
        guard pieces.count == 2, let hours = Int(pieces[0]), let minutes = Int(pieces[1]), (0..<24).contains(hours), (0..<60).contains(minutes) else {
            return nil
        }
        return hours * 60 + minutes
    }

    /// When the quiet window that `date` falls in ends, or nil when `date` is not in one.
    func end(after date: Date, calendar: Calendar) -> Date? {
        let parts = calendar.dateComponents([.hour, .minute, .second], from: date)
        let minute = parts.hour! * 60 + parts.minute!
        let inside = start < end ? (start..<end).contains(minute) : (minute >= start || minute < end)
        guard inside else { return nil }
        var wait = end - minute
        if wait <= 0 { wait += 24 * 60 }
        return date.addingTimeInterval(Double(wait * 60 - parts.second!))
    }
}

/// Retries: exponential back-off from `initial` doubling to `max`, ±20 % jitter, up to `deadline`
/// after the notice was made; then it has failed for good on that channel.
public struct RetryPolicy: Sendable, Equatable {
    public var initial: Double = 1
    public var max: Double = 60
    public var deadline: Double = 15 * 60
    public init() {}

    func delay(afterAttempt attempt: Int, jitter: Double) -> Double {
        Swift.min(max, initial * pow(2, Double(Swift.max(0, attempt - 1)))) * (1 + 0.2 * (jitter * 2 - 1))
    }
}

/// The notifier's rules file (docs/notifier.md#rules).
public struct NotifierRules: Sendable {
    public var routes: [Route]
    public var operators: [Operator]
    /// Channels in order of preference; a recipient uses those it has an address for.
    public var channelOrder: [String]
    /// Notices for one recipient within this window go out as one message (urgent ones at once).
    public var groupWait: Double
    /// Unacknowledged dispatches are reminded this often, at most `repeatLimit` times.
    public var repeatInterval: Double
    public var repeatLimit: Int
    public var quietHoursByRole: [String: QuietHours]
    public var quietHoursByMember: [String: QuietHours]
    public var timeZone: TimeZone
    public var retry: RetryPolicy
    public var defaultLanguage: String

    public static let standardRoutes: [Route] = [
        Route(match: matching(["incident.dispatched", "incident.reopened"]), to: ["assignees"], continue: false),
        Route(match: matching(["incident.escalated"]), to: ["escalation-targets"], continue: false),
        Route(match: matching(["incident.overdue"]), to: ["assignees", "grid-chief"], continue: false),
        Route(match: matching(["incident.verified"]), to: ["assignees"], continue: true),
        Route(match: matching(["incident.verified", "incident.closed"]), to: ["reporter"], continue: false),
        Route(match: matching(["grid.mode.changed"]), to: ["operators", "grid-chief"], continue: false),
    ]

    static func matching(_ types: [String]) -> RouteMatch {
        var match = RouteMatch()
        match.types = types
        return match
    }

    public init() {
        routes = Self.standardRoutes
        operators = []
        channelOrder = ["webhook", "sms", "email", "log"]
        groupWait = 30
        repeatInterval = 15 * 60
        repeatLimit = 3
        quietHoursByRole = ["resident-member": QuietHours(start: 22 * 60, end: 7 * 60), "part-time-member": QuietHours(start: 22 * 60, end: 7 * 60)]
        quietHoursByMember = [:]
        timeZone = TimeZone(identifier: "Asia/Shanghai")!
        retry = RetryPolicy()
        defaultLanguage = "zh"
    }

    /// The event types routes may name.
    static let routableTypes = EventType.allCases.map(\.rawValue).filter { $0.hasPrefix("incident.") || $0 == "grid.mode.changed" } + ["reminder"]

    public static func load(_ file: String, channels: [String]) throws(DefinitionError) -> NotifierRules {
        try read(try YAMLDefinition.load(file: file), channels: channels)
    }

    /// `channels`: the names of the channels that exist (built in and plugins), for checking `channel-order`.
    public static func read(_ root: YAMLDefinition, channels: [String]) throws(DefinitionError) -> NotifierRules {
        try root.allowOnly(["routes", "operators", "channel-order", "group-wait", "repeat", "quiet-hours", "time-zone", "retry", "language"])
        var rules = NotifierRules()
        if root.has("routes") {
            rules.routes = []
            for entry in try root.objectList("routes") {
                try entry.allowOnly(["match", "to", "continue"])
                var match = RouteMatch()
                if let matcher = try entry.object("match") {
                    try matcher.allowOnly(["type", "priority", "category", "grid"])
                    match.types = try matcher.stringOrList("type")
                    for (index, type) in match.types.enumerated() where !routableTypes.contains(type) {
                        throw matcher.error(
                            "type[\(index)]",
                            "'\(type)' is not an event the notifier hears (\(routableTypes.joined(separator: ", ")))"
                        )
                    }
                    for (index, name) in try matcher.stringOrList("priority").enumerated() {
                        guard let priority = Priority(rawValue: name) else {
                            throw matcher.error("priority[\(index)]", "'\(name)' is not a priority")
                        }
                        match.priorities.append(priority)
                    }
                    match.categoryPrefix = try matcher.string("category")
                    match.gridPrefix = try matcher.string("grid")
                }
                let to = try entry.stringOrList("to")
                guard !to.isEmpty else { throw entry.error("to", "is required: who hears of it") }
                rules.routes.append(Route(match: match, to: to, continue: try entry.bool("continue", default: false)))
            }
        }
        for entry in try root.objectList("operators") {
            try entry.allowOnly(["id", "name", "language", "phone", "email", "webhook", "places"])
            let places = try entry.stringList("places")
            rules.operators.append(
                Operator(
                    id: try entry.requiredString("id"),
                    name: try entry.string("name") ?? "",
                    language: try entry.string("language") ?? "zh",
                    phone: try entry.string("phone"),
                    email: try entry.string("email"),
                    webhook: try entry.string("webhook"),
                    places: places.isEmpty ? ["*"] : places
                )
            )
        }
        if root.has("channel-order") {
            rules.channelOrder = try root.stringList("channel-order")
            for (index, name) in rules.channelOrder.enumerated() where !channels.contains(name) {
                throw root.error("channel-order[\(index)]", "no channel '\(name)' (channels: \(channels.joined(separator: ", ")))")
            }
        }
        rules.groupWait = try root.duration("group-wait", default: rules.groupWait)
        if let repeatEntry = try root.object("repeat") {
            try repeatEntry.allowOnly(["interval", "limit"])
            rules.repeatInterval = try repeatEntry.duration("interval", default: rules.repeatInterval)
            guard rules.repeatInterval >= 1 else { throw repeatEntry.error("interval", "must be at least 1s") }
            rules.repeatLimit = try repeatEntry.int("limit", default: rules.repeatLimit, in: 0...100)
        }
        if let quiet = try root.object("quiet-hours") {
            try quiet.allowOnly(["roles", "members"])
            rules.quietHoursByRole = try Self.windows(quiet, "roles")
            rules.quietHoursByMember = try Self.windows(quiet, "members")
        }
        if let zone = try root.string("time-zone") {
            guard let timeZone = TimeZone(identifier: zone) else {
                throw root.error("time-zone", "'\(zone)' is not a time zone (e.g. Asia/Shanghai)")
            }
            rules.timeZone = timeZone
        }
        if let retry = try root.object("retry") {
            try retry.allowOnly(["initial", "max", "deadline"])
            rules.retry.initial = try retry.duration("initial", default: rules.retry.initial)
            rules.retry.max = try retry.duration("max", default: rules.retry.max)
            rules.retry.deadline = try retry.duration("deadline", default: rules.retry.deadline)
            guard rules.retry.initial > 0, rules.retry.max >= rules.retry.initial else {
                throw retry.error("max", "must be at least initial, and initial above 0")
            }
        }
        rules.defaultLanguage = try root.string("language") ?? rules.defaultLanguage
        guard Templates.languages.contains(rules.defaultLanguage) else {
            throw root.error("language", "must be one of \(Templates.languages.joined(separator: ", "))")
        }
        return rules
    }

    private static func windows(_ definition: YAMLDefinition, _ field: String) throws(DefinitionError) -> [String: QuietHours] {
        var windows: [String: QuietHours] = [:]
        for (name, text) in try definition.stringMap(field) {
            guard let window = QuietHours.parse(text) else {
                throw definition.error("\(field).\(name)", "'\(text)' is not a window such as 22:00-07:00")
            }
            windows[name] = window
        }
        return windows
    }

    func routes(for type: String, priority: Priority?, category: String?, grid: String?) -> [Route] {
        var chosen: [Route] = []
        for route in routes where route.match.matches(type: type, priority: priority, category: category, grid: grid) {
            chosen.append(route)
            if !route.continue { break }
        }
        return chosen
    }
}

extension YAMLDefinition {
    /// A field given as one text value or as a list of them.
    func stringOrList(_ field: String) throws(DefinitionError) -> [String] {
        if has(field), let single = try? string(field) { return [single] }
        return try stringList(field)
    }

    func bool(_ field: String, default defaultValue: Bool) throws(DefinitionError) -> Bool {
        guard let text = try string(field) else { return defaultValue }
        switch text {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw error(field, "'\(text)' is not true or false")
        }
    }
}
