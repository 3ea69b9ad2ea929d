import Foundation
import GridDispatch
import GridDistrict
import GridSchema
import Testing

@Suite struct AssignmentTests {
    static func member(_ id: String, _ role: Member.Role, _ grids: [String], duty: String = "always", skills: [String] = []) -> Member {
        Member(
            id: id,
            name: id,
            role: role,
            grids: grids,
            phone: nil,
            email: nil,
            webhook: nil,
            skills: skills,
            duty: DutyHours(duty)!,
            language: "zh"
        )
    }

    static let square = GeoPolygon(outer: [
        GeoPoint(latitude: 0, longitude: 0), GeoPoint(latitude: 0, longitude: 1), GeoPoint(latitude: 1, longitude: 1),
        GeoPoint(latitude: 1, longitude: 0), GeoPoint(latitude: 0, longitude: 0),
    ])

    static func category(_ code: String, partTime: Bool = false) -> Category {
        Category(
            code: code,
            kind: .event,
            group: "g",
            nameZh: "z",
            nameEn: "e",
            keywords: [],
            filingCriteria: "",
            closingCriteria: "",
            normalLimit: 3600,
            urgentLimit: 1800,
            clock: .natural,
            responsibleUnit: "u",
            priority: .normal,
            serviceCode: code,
            partTimeAllowed: partTime,
            volunteer: false
        )
    }

    static let district = District(
        grids: ["G-1", "G-2"].map { DistrictGrid(id: $0, name: $0, community: "C", town: "T", district: "D", polygons: [square]) },
        members: [
            member("w1", .gridWorker, ["G-1"], duty: "mon-fri 08:30-17:30", skills: ["electrical"]),
            member("w2", .gridWorker, ["G-1"]),
            member("w3", .gridWorker, ["G-1"], skills: ["electrical", "plumbing"]),
            member("c1", .gridChief, ["G-1", "G-2"], duty: "mon-fri 08:30-17:30"),
            member("i1", .instructor, ["G-1", "G-2"]),
            member("r1", .residentMember, ["G-1"]),
            member("p1", .partTimeMember, ["G-1"]),
            member("w9", .gridWorker, ["G-2"], duty: "mon-fri 08:30-17:30"),
        ],
        categories: [category("E-01-02"), category("G-01-01")]
    )

    /// Wednesday 2026-11-25 at 10:00 and at 22:00 in China.
    static let morning = Date(timeIntervalSince1970: 1_795_572_000)
    static let night = morning.addingTimeInterval(12 * 3600)

    func assign(
        _ strategy: AssignmentStrategy,
        grid: String = "G-1",
        category: Category = category("E-01-02"),
        at: Date = morning,
        load: [String: Int] = [:],
        emergency: Bool = false,
        skills: [String] = [],
        roles: [String: Member.Role] = [:],
        excluding: Set<String> = []
    ) -> Assignment? {
        var turns: [String: Int] = [:]
        return Assigner(district: Self.district, strategy: strategy, roles: roles).assign(
            AssignmentRequest(grid: grid, category: category, at: at, emergency: emergency, requiredSkills: skills, excluding: excluding),
            load: load,
            turns: &turns
        )
    }

    @Test func leastLoadThenID() {
        #expect(assign(.leastLoad)?.assignees.map(\.id) == ["w1"])
        #expect(assign(.leastLoad, load: ["w1": 3, "w2": 1, "w3": 1])?.assignees.map(\.id) == ["w2"])
    }

    @Test func roundRobinTakesTurns() {
        let assigner = Assigner(district: Self.district, strategy: .roundRobin)
        var turns: [String: Int] = [:]
        let picks = (0..<4).map { _ in
            assigner.assign(AssignmentRequest(grid: "G-1", category: Self.category("E-01-02"), at: Self.morning), load: [:], turns: &turns)!
                .assignees[0].id
        }
        #expect(picks == ["w1", "w2", "w3", "w1"])
    }

    @Test func skillMatchPrefersMembersWithEverySkill() {
        #expect(assign(.skillMatch, load: ["w3": 5], skills: ["electrical", "plumbing"])?.assignees.map(\.id) == ["w3"])
        #expect(assign(.skillMatch, load: ["w1": 5], skills: ["electrical"])?.assignees.map(\.id) == ["w3"])
        #expect(assign(.skillMatch, skills: ["diving"])?.assignees.map(\.id) == ["w1"])  // nobody has it: least load
    }

    @Test func dutyHoursAreRespected() {
        #expect(assign(.leastLoad, at: Self.night)?.assignees.map(\.id) == ["w2"])  // w1 is off duty at night
        // G-2 at night: its worker and its chief are off duty; the instructor (always on duty) takes it.
        let upTheLadder = assign(.leastLoad, grid: "G-2", at: Self.night)
        #expect(upTheLadder?.assignees.map(\.id) == ["i1"] && upTheLadder?.role == .instructor)
        #expect(upTheLadder?.note?.contains("up the ladder") == true)
    }

    @Test func partTimeMembersOnlyForCategoriesMarkedForThem() {
        #expect(
            assign(.leastLoad, category: Self.category("E-01-02", partTime: true), load: ["w1": 1, "w2": 1, "w3": 1])?.assignees.map(\.id) == ["p1"]
        )
        #expect(assign(.leastLoad, load: ["w1": 1, "w2": 1, "w3": 1])?.assignees.map(\.id) != ["p1"])
    }

    @Test func rolesByCategoryAndEmergency() {
        let dispute = assign(.leastLoad, category: Self.category("G-01-01"), roles: ["G-01": .gridChief])
        #expect(dispute?.assignees.map(\.id) == ["c1"] && dispute?.role == .gridChief)
        let everyone = assign(.leastLoad, emergency: true)
        #expect(Set(everyone?.assignees.map(\.id) ?? []) == ["w1", "w2", "w3", "c1", "i1", "r1", "p1"] && everyone?.policy == "emergency-all")
        #expect(assign(.leastLoad, grid: "G-404") == nil)
    }

    /// A returned case: whoever returned it is not on the roster for it, even when they are the only
    /// one on duty (the fault this test was written for: the case went straight back to them).
    @Test func aReturnedCaseNeverGoesBackToWhoReturnedIt() {
        // G-2 in the morning: its only worker returned it; the chief, on duty, takes it.
        let chief = assign(.leastLoad, grid: "G-2", excluding: ["w9"])
        #expect(chief?.assignees.map(\.id) == ["c1"] && chief?.role == .gridChief)
        // At night the instructor is the only one on duty in G-2; without them, the worker off duty…
        let offDuty = assign(.leastLoad, grid: "G-2", at: Self.night, excluding: ["i1"])
        #expect(offDuty?.assignees.map(\.id) == ["w9"] && offDuty?.note?.contains("off duty") == true)
        // …and without the worker too, the chief off duty (the ladder, off duty).
        let chiefOffDuty = assign(.leastLoad, grid: "G-2", at: Self.night, excluding: ["i1", "w9"])
        #expect(chiefOffDuty?.assignees.map(\.id) == ["c1"] && chiefOffDuty?.role == .gridChief)
        #expect(assign(.leastLoad, grid: "G-2", excluding: ["w9", "c1", "i1"]) == nil)
        // Every strategy skips them, with no load needed to push them away.
        #expect(assign(.leastLoad, excluding: ["w1"])?.assignees.map(\.id) == ["w2"])
        #expect(assign(.skillMatch, skills: ["electrical"], excluding: ["w1", "w3"])?.assignees.map(\.id) == ["w2"])
        let assigner = Assigner(district: Self.district, strategy: .roundRobin)
        var turns: [String: Int] = [:]
        let picks = (0..<3).map { _ in
            assigner.assign(
                AssignmentRequest(grid: "G-1", category: Self.category("E-01-02"), at: Self.morning, excluding: ["w2"]),
                load: [:],
                turns: &turns
            )!
            .assignees[0].id
        }
        #expect(picks == ["w1", "w3", "w1"])
        #expect(Set(assign(.leastLoad, emergency: true, excluding: ["w1"])?.assignees.map(\.id) ?? []) == ["w2", "w3", "c1", "i1", "r1", "p1"])
    }
}
