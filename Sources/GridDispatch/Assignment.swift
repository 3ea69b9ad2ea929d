import Foundation
import GridDistrict

/// How the dispatcher picks among the members who could take a case (selectable by name in config).
public enum AssignmentStrategy: String, Sendable, CaseIterable {
    /// The member with the fewest open cases; ties by member id.
    case leastLoad = "least-load"
    /// In turn, per grid and role.
    case roundRobin = "round-robin"
    /// Members with every skill the case needs first, then the fewest open cases.
    case skillMatch = "skill-match"
}

/// What an assignment is asked to decide.
public struct AssignmentRequest: Sendable {
    public var grid: String
    public var category: Category
    public var at: Date
    /// Emergency mode in the grid: everyone on its roster is mobilised.
    public var emergency: Bool
    public var requiredSkills: [String]
    /// Members who may not get the case (who returned it as not theirs), whatever their duty or load.
    public var excluding: Set<String>

    public init(grid: String, category: Category, at: Date, emergency: Bool = false, requiredSkills: [String] = [], excluding: Set<String> = []) {
        self.grid = grid
        self.category = category
        self.at = at
        self.emergency = emergency
        self.requiredSkills = requiredSkills
        self.excluding = excluding
    }
}

/// Who gets the case, in which role, and why (the policy name goes on `incident.dispatched`).
public struct Assignment: Sendable, Equatable {
    public var assignees: [Member]
    public var role: Member.Role
    public var policy: String
    /// Nobody of that role was on duty: the case went to the next role up, or to someone off duty.
    public var note: String?
}

/// Grid × category → role → member. Pure apart from the round-robin counters, which the caller
/// keeps (so that a restart can persist them); lookups are by grid, so a decision costs the same
/// with 100 grids or 100,000.
public struct Assigner: Sendable {
    public let strategy: AssignmentStrategy
    public let timeZone: TimeZone
    /// Category code or its major class (`G-01`) → the role that handles it; others go to grid workers.
    public let roles: [String: Member.Role]
    private let membersByGrid: [String: [Member]]

    /// The ladder a case climbs when nobody is on duty, and escalation's ladder.
    public static let ladder: [Member.Role] = [.gridWorker, .gridChief, .instructor]

    public init(
        district: District,
        strategy: AssignmentStrategy,
        roles: [String: Member.Role] = [:],
        timeZone: TimeZone = TimeZone(identifier: "Asia/Shanghai")!
    ) {
        self.strategy = strategy
        self.roles = roles
        self.timeZone = timeZone
        var byGrid: [String: [Member]] = [:]
        for member in district.members {
            for grid in member.grids { byGrid[grid, default: []].append(member) }
        }
        membersByGrid = byGrid.mapValues { $0.sorted { $0.id < $1.id } }
    }

    public func role(for category: Category) -> Member.Role {
        roles[category.code] ?? roles[String(category.code.prefix(4))] ?? .gridWorker
    }

    /// - Parameters:
    ///   - load: open cases per member id.
    ///   - turns: round-robin counters per "grid role" key; updated when used.
    /// The round-robin counter of a grid and role.
    static func turnKey(grid: String, role: String) -> String { "\(grid) \(role)" }

    /// nil when the grid has nobody left to take the case (no roster, or everyone excluded).
    public func assign(_ request: AssignmentRequest, load: [String: Int], turns: inout [String: Int]) -> Assignment? {
        let roster = (membersByGrid[request.grid] ?? []).filter { !request.excluding.contains($0.id) }
        guard !roster.isEmpty else { return nil }
        if request.emergency {
            return Assignment(assignees: roster, role: role(for: request.category), policy: "emergency-all", note: nil)
        }
        let (weekday, minute) = clock(request.at)
        let wanted = role(for: request.category)
        func candidates(_ role: Member.Role, onDuty: Bool) -> [Member] {
            roster.filter { member in
                let fits = member.role == role || (request.category.partTimeAllowed && member.role == .partTimeMember && role == wanted)
                return fits && (!onDuty || member.duty.covers(weekday: weekday, minute: minute))
            }
        }
        var chosenRole = wanted
        var pool = candidates(wanted, onDuty: true)
        var note: String?
        if pool.isEmpty {
            for role in Self.ladder.drop(while: { $0 != wanted }).dropFirst() {
                pool = candidates(role, onDuty: true)
                if !pool.isEmpty {
                    chosenRole = role
                    note = "no \(wanted.rawValue) on duty: assigned up the ladder to the \(role.rawValue)"
                    break
                }
            }
        }
        if pool.isEmpty {
            // Nobody on duty: the wanted role off duty, else the first role up the ladder that has anyone.
            for role in [wanted] + Self.ladder.drop(while: { $0 != wanted }).dropFirst() {
                pool = candidates(role, onDuty: false)
                if !pool.isEmpty {
                    chosenRole = role
                    note = "nobody on duty: assigned to the \(role.rawValue), who is off duty now"
                    break
                }
            }
        }
        guard !pool.isEmpty else { return nil }
        let member: Member
        switch strategy {
        case .leastLoad:
            member = pool.min { (load[$0.id] ?? 0, $0.id) < (load[$1.id] ?? 0, $1.id) }!
        case .roundRobin:
            let key = Self.turnKey(grid: request.grid, role: chosenRole.rawValue)
            let turn = turns[key] ?? 0
            member = pool[turn % pool.count]
            turns[key] = turn + 1
        case .skillMatch:
            let skilled = pool.filter { Set($0.skills).isSuperset(of: request.requiredSkills) }
            member = (skilled.isEmpty ? pool : skilled).min { (load[$0.id] ?? 0, $0.id) < (load[$1.id] ?? 0, $1.id) }!
        }
        return Assignment(assignees: [member], role: chosenRole, policy: strategy.rawValue, note: note)
    }

    /// ISO weekday and minute of the day at `date`, in the district's time zone.
    func clock(_ date: Date) -> (weekday: Int, minute: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        return ((parts.weekday! + 5) % 7 + 1, parts.hour! * 60 + parts.minute!)
    }
}
