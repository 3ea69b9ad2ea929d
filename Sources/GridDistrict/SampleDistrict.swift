import Foundation
import GridSchema

/// Generates a synthetic district, deterministically from a seed: towns → communities and villages
/// → grids tiled over an area near Hangzhou, rosters with all five roles, and the sample catalogue.
/// `deploy/sample/` is its output for 884 grids; benchmarks use 100,000.
public struct SampleDistrict {
    public var gridCount: Int
    public var seed: UInt64

    public init(gridCount: Int = 884, seed: UInt64 = 2026) {
        self.gridCount = gridCount
        self.seed = seed
    }

    static let towns = [
        ("Xiangfu", "祥符"), ("Gudang", "古荡"), ("Cuiyuan", "翠苑"), ("Wenxin", "文新"), ("Sandun", "三墩"), ("Jiangcun", "蒋村"),
        ("Liuxia", "留下"), ("Zhuantang", "转塘"), ("Shuangpu", "双浦"),
    ]
    static let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
    static let given = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平"]
    static let skills = ["first-aid", "mediation", "elderly-care", "electrical", "plumbing", "fire-safety", "law", "sign-language", "driving"]

    public struct Output {
        public var grids: [DistrictGrid]
        public var members: [Member]
        public var categories: [Category]
    }

    public func generate() -> Output {
        var random = SeededRandom(state: seed)
        // Hierarchy: communities of 8–16 grids, towns of ~10 communities, until gridCount grids.
        var layout: [(town: Int, community: Int, village: Bool, grids: Int)] = []
        var remaining = gridCount
        var town = 0
        var communityInTown = 0
        let communitiesPerTown = max(1, Int((Double(gridCount) / 12 / Double(Self.towns.count)).rounded(.up)))
        while remaining > 0 {
            let size = min(remaining, random.int(8...16))
            layout.append((town, communityInTown, random.unit() < 0.3, size))
            remaining -= size
            communityInTown += 1
            if communityInTown == communitiesPerTown {
                communityInTown = 0
                town += 1
            }
        }
        // A lattice of jittered cells, filled in a serpentine so that a community's grids touch.
        let columns = max(1, Int((Double(gridCount) * 1.4).squareRoot().rounded(.up)))
        let rows = (gridCount + columns - 1) / columns
        let (west, south) = (120.00, 30.10)
        let (cellWidth, cellHeight) = (0.30 / Double(columns), 0.25 / Double(max(rows, 1)))
        func vertex(_ column: Int, _ row: Int) -> GeoPoint {
            // Shared corners move together, so neighbours share edges: no gaps, no overlaps.
            var local = SeededRandom(state: seed ^ UInt64(column &* 73_856_093) ^ UInt64(row &* 19_349_663))
            let inner = column > 0 && column < columns && row > 0 && row < rows
            let dx = inner ? (local.unit() - 0.5) * cellWidth * 0.3 : 0
            let dy = inner ? (local.unit() - 0.5) * cellHeight * 0.3 : 0
            return GeoPoint(latitude: south + Double(row) * cellHeight + dy, longitude: west + Double(column) * cellWidth + dx)
        }
        var grids: [DistrictGrid] = []
        var members: [Member] = []
        var ordinal = 0
        var memberNumber = 0
        func person() -> String { String(random.pick(Self.surnames)) + random.pick(Self.given) }
        func nextMemberID() -> String {
            memberNumber += 1
            return String(format: "m-%05d", memberNumber)
        }
        let weekdays = DutyHours("mon-fri 08:30-17:30; sat 09:00-12:00")!
        for (townIndex, communityIndex, village, size) in layout {
            let (townName, townZh) = Self.towns[townIndex % Self.towns.count]
            let townSuffix = townIndex >= Self.towns.count ? " \(townIndex / Self.towns.count + 1)" : ""
            let communityID = String(format: "C-%02d-%02d", townIndex + 1, communityIndex + 1)
            let communityName =
                "\(townZh)\(village ? "村" : "社区")\(communityIndex + 1) (\(townName)\(townSuffix) \(village ? "Village" : "Community") \(communityIndex + 1))"
            var gridIDs: [String] = []
            for number in 1...size {
                let row = ordinal / columns
                let column = row % 2 == 0 ? ordinal % columns : columns - 1 - ordinal % columns
                ordinal += 1
                let corners = [vertex(column, row), vertex(column + 1, row), vertex(column + 1, row + 1), vertex(column, row + 1)]
                var polygons = [GeoPolygon(outer: corners + [corners[0]], holes: ordinal % 50 == 5 ? [Self.hole(in: corners)] : [])]
                if ordinal % 97 == 0 {  // an exclave east of the lattice: a MultiPolygon
                    let x = west + 0.31 + Double(ordinal / 97 % 10) * 0.004
                    let y = south + Double(ordinal / 970) * 0.004
                    let island = [
                        GeoPoint(latitude: y, longitude: x), GeoPoint(latitude: y, longitude: x + 0.003),
                        GeoPoint(latitude: y + 0.003, longitude: x + 0.003), GeoPoint(latitude: y + 0.003, longitude: x),
                    ]
                    polygons.append(GeoPolygon(outer: island + [island[0]]))
                }
                let id = String(format: "G-%02d-%02d-%02d", townIndex + 1, communityIndex + 1, number)
                gridIDs.append(id)
                grids.append(
                    DistrictGrid(
                        id: id,
                        name: "\(communityName.split(separator: " ").first!)第\(number)网格",
                        community: communityID,
                        town: String(format: "T-%02d", townIndex + 1),
                        district: "D-01",
                        polygons: polygons
                    )
                )
                members.append(self.member(nextMemberID(), person(), .gridWorker, [id], weekdays, &random))
                for _ in 0..<random.int(1...2) {
                    members.append(self.member(nextMemberID(), person(), .residentMember, [id], DutyHours("mon-sun 07:00-21:00")!, &random))
                }
                if random.unit() < 0.35 {
                    members.append(self.member(nextMemberID(), person(), .partTimeMember, [id], DutyHours("mon-sun 10:00-20:00")!, &random))
                }
            }
            members.append(self.member(nextMemberID(), person(), .gridChief, gridIDs, weekdays, &random))
            members.append(self.member(nextMemberID(), person(), .instructor, gridIDs, DutyHours("mon-fri 09:00-17:00")!, &random))
        }
        return Output(grids: grids, members: members, categories: SampleCatalogue.categories)
    }

    private func member(
        _ id: String,
        _ name: String,
        _ role: Member.Role,
        _ grids: [String],
        _ duty: DutyHours,
        _ random: inout SeededRandom
    ) -> Member {
        let phone = String(format: "13%d%08d", random.int(0...9), Int(random.next() % 100_000_000))
        let office = role == .gridChief || role == .instructor
        return Member(
            id: id,
            name: name,
            role: role,
            grids: grids,
            phone: phone,
            email: office ? "\(id)@grid.example.org" : nil,
            webhook: nil,
            skills: random.unit() < 0.5 ? [random.pick(Self.skills)] : [],
            duty: duty,
            language: random.unit() < 0.05 ? "en" : "zh"
        )
    }

    /// A small park in the middle of a cell: inside the grid's outline, outside every grid.
    private static func hole(in corners: [GeoPoint]) -> [GeoPoint] {
        let x = corners.map(\.longitude).reduce(0, +) / 4
        let y = corners.map(\.latitude).reduce(0, +) / 4
        let dx = (corners[1].longitude - corners[0].longitude) * 0.15
        let dy = (corners[3].latitude - corners[0].latitude) * 0.15
        let ring = [
            GeoPoint(latitude: y - dy, longitude: x - dx), GeoPoint(latitude: y - dy, longitude: x + dx),
            GeoPoint(latitude: y + dy, longitude: x + dx), GeoPoint(latitude: y + dy, longitude: x - dx),
        ]
        return ring + [ring[0]]
    }

    /// Writes `grids.geojson`, `roster.csv` and `categories.csv` into `directory`.
    public static func write(_ output: Output, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = { (name: String) in URL(fileURLWithPath: (directory as NSString).appendingPathComponent(name)) }
        try Data(GeoJSONGrids.encode(output.grids)).write(to: path(District.files.grids))
        var roster = RosterFile.columns.joined(separator: ",") + ",language\n"
        for member in output.members {
            roster +=
                [
                    member.id, member.name, member.role.rawValue, member.grids.joined(separator: ";"), member.phone ?? "", member.email ?? "",
                    member.webhook ?? "", member.skills.joined(separator: ";"), member.duty.description, member.language,
                ].map(csv).joined(separator: ",") + "\n"
        }
        try Data(roster.utf8).write(to: path(District.files.roster))
        var catalogue = (CatalogueFile.columns + CatalogueFile.optionalColumns).joined(separator: ",") + "\n"
        for category in output.categories {
            catalogue +=
                [
                    category.code, category.kind.rawValue, category.group, category.nameZh, category.nameEn, category.keywords.joined(separator: ";"),
                    category.filingCriteria, category.closingCriteria, duration(category.normalLimit), duration(category.urgentLimit),
                    category.clock.rawValue,
                    category.responsibleUnit, category.priority.rawValue, category.serviceCode, category.partTimeAllowed ? "yes" : "no",
                    category.volunteer ? "yes" : "no",
                ].map(csv).joined(separator: ",") + "\n"
        }
        try Data(catalogue.utf8).write(to: path(District.files.categories))
    }

    static func csv(_ field: String) -> String {
        field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }

    static func duration(_ seconds: Double) -> String {
        seconds.truncatingRemainder(dividingBy: 86400) == 0
            ? "\(Int(seconds / 86400))d"
            : seconds.truncatingRemainder(dividingBy: 3600) == 0 ? "\(Int(seconds / 3600))h" : "\(Int(seconds / 60))m"
    }
}
