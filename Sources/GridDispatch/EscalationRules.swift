import GridConfiguration
import GridDistrict
import GridSchema

/// How fast a case must be acknowledged, and how often reminders repeat once it is escalated.
public struct EscalationPace: Sendable, Equatable {
    /// Seconds from dispatch to the acknowledgement deadline.
    public var acknowledge: Double
    /// Seconds between reminders once a case is escalated or overdue.
    public var remind: Double

    public init(acknowledge: Double, remind: Double) {
        self.acknowledge = acknowledge
        self.remind = remind
    }
}

/// The escalation of one kind of case: who hears next, and the pace per priority.
public struct EscalationPolicy: Sendable, Equatable {
    /// Rungs from the assignee upwards; the first escalation goes to `ladder[1]`.
    public var ladder: [String]
    public var pace: [Priority: EscalationPace]

    public init(ladder: [String], pace: [Priority: EscalationPace]) {
        self.ladder = ladder
        self.pace = pace
    }

    public static let standardLadder = ["grid-worker", "grid-chief", "instructor", "community", "town"]
    public static let standard = EscalationPolicy(
        ladder: standardLadder,
        pace: [
            .normal: EscalationPace(acknowledge: 30 * 60, remind: 15 * 60),
            .urgent: EscalationPace(acknowledge: 10 * 60, remind: 5 * 60),
            .emergency: EscalationPace(acknowledge: 5 * 60, remind: 2 * 60),
        ]
    )
}

/// Escalation per category (by code or code prefix; the longest prefix wins) and priority, with a
/// faster pace for cases registered in emergency mode. Read from `escalation.file`
/// (docs/dispatcher.md#escalation-file).
public struct EscalationRules: Sendable, Equatable {
    public var standard: EscalationPolicy
    /// Category code or prefix → policy, longest prefix first.
    public private(set) var categories: [(prefix: String, policy: EscalationPolicy)]
    /// Every case registered in emergency mode, whatever its category.
    public var emergencyMode: EscalationPace

    public init(
        standard: EscalationPolicy = .standard,
        categories: [(prefix: String, policy: EscalationPolicy)] = [],
        emergencyMode: EscalationPace = EscalationPace(acknowledge: 5 * 60, remind: 60)
    ) {
        self.standard = standard
        self.categories = categories.sorted { $0.prefix.count > $1.prefix.count }
        self.emergencyMode = emergencyMode
    }

    public static func == (lhs: EscalationRules, rhs: EscalationRules) -> Bool {
        lhs.standard == rhs.standard && lhs.emergencyMode == rhs.emergencyMode
            && lhs.categories.map(\.prefix) == rhs.categories.map(\.prefix) && lhs.categories.map(\.policy) == rhs.categories.map(\.policy)
    }

    public func policy(category: String) -> EscalationPolicy {
        categories.first { category.hasPrefix($0.prefix) }?.policy ?? standard
    }

    public func pace(category: String, priority: Priority, emergency: Bool) -> EscalationPace {
        if emergency { return emergencyMode }
        return policy(category: category).pace[priority] ?? standard.pace[priority] ?? EscalationPolicy.standard.pace[priority]!
    }

    public func pace(of item: DispatchCase) -> EscalationPace {
        pace(category: item.category, priority: item.priority, emergency: item.emergency)
    }

    public func ladder(of item: DispatchCase) -> [String] { policy(category: item.category).ladder }

    /// The rungs a ladder may name: the grid's roles, then the community and the town.
    public static let rungs = Member.Role.allCases.map(\.rawValue) + ["community", "town"]
}

/// The escalation file:
///
/// ```yaml
/// default:
///   ladder: [grid-worker, grid-chief, instructor, community, town]
///   normal: {acknowledge: 30m, remind: 15m}
///   urgent: {acknowledge: 10m, remind: 5m}
///   emergency: {acknowledge: 5m, remind: 2m}
/// emergency-mode: {acknowledge: 5m, remind: 1m}
/// categories:
///   G-05:                            # a code, or a prefix of codes
///     ladder: [grid-chief, instructor, community, town]
///     urgent: {acknowledge: 5m, remind: 2m}
/// ```
///
/// A category entry takes what it does not say from `default`.
public enum EscalationFile {
    public static func load(_ file: String, catalogue: [String]) throws(DefinitionError) -> EscalationRules {
        try read(try YAMLDefinition.load(file: file), catalogue: catalogue)
    }

    public static func read(_ root: YAMLDefinition, catalogue: [String]) throws(DefinitionError) -> EscalationRules {
        try root.allowOnly(["default", "emergency-mode", "categories"])
        let standard = try root.object("default").map { definition throws(DefinitionError) in try policy(definition, base: .standard) } ?? .standard
        let emergencyMode =
            try root.object("emergency-mode").map { definition throws(DefinitionError) in
                try pace(definition, base: EscalationRules().emergencyMode)
            } ?? EscalationRules().emergencyMode
        var categories: [(prefix: String, policy: EscalationPolicy)] = []
        if let entries = try root.object("categories") {
            for prefix in entries.keys {
                guard catalogue.contains(where: { $0.hasPrefix(prefix) }) else {
                    throw entries.error(prefix, "matches no category of the catalogue (a code such as E-01-02, or a prefix such as E-01)")
                }
                guard let entry = try entries.object(prefix) else { continue }
                categories.append((prefix, try policy(entry, base: standard)))
            }
        }
        return EscalationRules(standard: standard, categories: categories, emergencyMode: emergencyMode)
    }

    private static func policy(_ definition: YAMLDefinition, base: EscalationPolicy) throws(DefinitionError) -> EscalationPolicy {
        try definition.allowOnly(["ladder"] + Priority.allCases.map(\.rawValue))
        var result = base
        if definition.has("ladder") {
            let ladder = try definition.stringList("ladder")
            guard ladder.count >= 2 else { throw definition.error("ladder", "needs the assignee's rung and at least one above it") }
            for (index, rung) in ladder.enumerated() where !EscalationRules.rungs.contains(rung) {
                throw definition.error("ladder[\(index)]", "'\(rung)' is not a rung (rungs: \(EscalationRules.rungs.joined(separator: ", ")))")
            }
            guard Set(ladder).count == ladder.count else { throw definition.error("ladder", "names a rung twice") }
            result.ladder = ladder
        }
        for priority in Priority.allCases {
            guard let entry = try definition.object(priority.rawValue) else { continue }
            result.pace[priority] = try pace(entry, base: result.pace[priority] ?? EscalationPolicy.standard.pace[priority]!)
        }
        return result
    }

    private static func pace(_ definition: YAMLDefinition, base: EscalationPace) throws(DefinitionError) -> EscalationPace {
        try definition.allowOnly(["acknowledge", "remind"])
        let acknowledge = try definition.duration("acknowledge", default: base.acknowledge)
        let remind = try definition.duration("remind", default: base.remind)
        guard acknowledge >= 1 else { throw definition.error("acknowledge", "must be at least 1s") }
        guard remind >= 1 else { throw definition.error("remind", "must be at least 1s") }
        return EscalationPace(acknowledge: acknowledge, remind: remind)
    }
}
