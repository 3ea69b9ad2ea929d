import Foundation
import GridConfiguration

/// A member of a grid team.
public struct Member: Sendable, Hashable, Identifiable {
    public enum Role: String, Sendable, Hashable, CaseIterable, Codable {
        case gridChief = "grid-chief"
        case instructor
        case gridWorker = "grid-worker"
        case residentMember = "resident-member"
        case partTimeMember = "part-time-member"
    }

    public var id: String
    public var name: String
    public var role: Role
    /// The grids this member serves (an instructor or a chief may serve several).
    public var grids: [String]
    public var phone: String?
    public var email: String?
    public var webhook: String?
    public var skills: [String]
    public var duty: DutyHours
    /// `zh` or `en`: the language of the notices this member receives.
    public var language: String

    public init(
        id: String,
        name: String,
        role: Role,
        grids: [String],
        phone: String?,
        email: String?,
        webhook: String?,
        skills: [String],
        duty: DutyHours,
        language: String
    ) {
        self.id = id
        self.name = name
        self.role = role
        self.grids = grids
        self.phone = phone
        self.email = email
        self.webhook = webhook
        self.skills = skills
        self.duty = duty
        self.language = language
    }
}

/// When a member is on duty: `always`, or slots such as `mon-fri 08:30-17:30; sat 09:00-12:00`.
public struct DutyHours: Sendable, Hashable, CustomStringConvertible {
    public struct Slot: Sendable, Hashable {
        /// ISO weekdays, Monday = 1 … Sunday = 7.
        public var days: Set<Int>
        /// Minutes after midnight, `start < end`.
        public var start: Int
        public var end: Int
    }

    public var slots: [Slot]?  // nil: always
    public let description: String

    public static let always = DutyHours(slots: nil, description: "always")

    private init(slots: [Slot]?, description: String) {
        self.slots = slots
        self.description = description
    }

    static let weekdays = ["mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7]

    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed.isEmpty || trimmed == "always" {
            self = .always
            return
        }
        var slots: [Slot] = []
        for part in trimmed.split(separator: ";") {
            let pieces = part.split(separator: " ", omittingEmptySubsequences: true)
            guard pieces.count == 2 else { return nil }
            var days = Set<Int>()
            for group in pieces[0].split(separator: ",") {
                let ends = group.split(separator: "-").map(String.init)
                guard let first = ends.first.flatMap({ Self.weekdays[$0] }), ends.count <= 2 else { return nil }
                let last = ends.count == 2 ? Self.weekdays[ends[1]] : first
                guard let last, first <= last else { return nil }
                days.formUnion(first...last)
            }
            let times = pieces[1].split(separator: "-").map(String.init)
            guard times.count == 2, let start = Self.minutes(times[0]), let end = Self.minutes(times[1]), start < end else { return nil }
            slots.append(Slot(days: days, start: start, end: end))
        }
        self.init(slots: slots, description: trimmed)
    }

    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2, (0...24).contains(parts[0]), (0...59).contains(parts[1]), parts[0] * 60 + parts[1] <= 1440 else { return nil }
        return parts[0] * 60 + parts[1]
    }

    /// - Parameters: weekday 1–7 (Monday first), minute of the day.
    public func covers(weekday: Int, minute: Int) -> Bool {
        guard let slots else { return true }
        return slots.contains { $0.days.contains(weekday) && minute >= $0.start && minute < $0.end }
    }
}

/// The members of every grid team, from `roster.csv`.
public enum RosterFile {
    public static let columns = ["member_id", "name", "role", "grids", "phone", "email", "webhook", "skills", "duty_hours"]
    public static let optionalColumns = ["language"]

    public static func load(_ file: String, knownGrids: Set<String>) throws(DefinitionError) -> [Member] {
        let table = try CSVTable.load(file, required: columns, optional: optionalColumns)
        var members: [Member] = []
        var seen: [String: Int] = [:]
        for (row, fields) in table.rows {
            let id = fields["member_id"]!
            guard !id.isEmpty else { throw table.error(row: row, "member_id", "is required") }
            if let first = seen[id] { throw table.error(row: row, "member_id", "'\(id)' is also on row \(first)") }
            seen[id] = row
            guard let role = Member.Role(rawValue: fields["role"]!) else {
                throw table.error(
                    row: row,
                    "role",
                    "'\(fields["role"]!)' is not one of \(Member.Role.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            let grids = list(fields["grids"]!)
            guard !grids.isEmpty else { throw table.error(row: row, "grids", "a member serves at least one grid") }
            if let unknown = grids.first(where: { !knownGrids.contains($0) }) {
                throw table.error(row: row, "grids", "no grid '\(unknown)' in the district")
            }
            guard let duty = DutyHours(fields["duty_hours"]!) else {
                throw table.error(
                    row: row,
                    "duty_hours",
                    "'\(fields["duty_hours"]!)' is not 'always' or slots like 'mon-fri 08:30-17:30; sat 09:00-12:00'"
                )
            }
            let webhook = fields["webhook"].flatMap { $0.isEmpty ? nil : $0 }
            if let webhook, !(webhook.hasPrefix("https://") || webhook.hasPrefix("http://")) {
                throw table.error(row: row, "webhook", "must be an http(s) URL")
            }
            let language = fields["language"].flatMap { $0.isEmpty ? nil : $0 } ?? "zh"
            guard ["zh", "en"].contains(language) else { throw table.error(row: row, "language", "must be zh or en") }
            members.append(
                Member(
                    id: id,
                    name: fields["name"]!,
                    role: role,
                    grids: grids,
                    phone: fields["phone"].flatMap { $0.isEmpty ? nil : $0 },
                    email: fields["email"].flatMap { $0.isEmpty ? nil : $0 },
                    webhook: webhook,
                    skills: list(fields["skills"]!),
                    duty: duty,
                    language: language
                )
            )
        }
        return members
    }

    static func list(_ text: String) -> [String] {
        text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
