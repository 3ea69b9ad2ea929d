import GridDistrict
import GridJSON
import GridSchema

/// One report the load generator will post, and what it expects of it.
public struct PlannedReport: Sendable {
    public enum Expectation: Sendable {
        /// A case of its own, driven by the plan.
        case driven(CasePlan)
        /// A second report of the same problem (same category, a few metres away): merged.
        case duplicate(of: Int)
        /// Outside every grid: held for triage; an operator places some of them into a grid.
        case outside(placeIn: String?)
    }

    public let index: Int
    public let category: String
    public let priority: String
    public let channel: String
    public let latitude: Double
    public let longitude: Double
    public let expectation: Expectation
    /// The index of the duplicate that follows this report, if one does: the handlers leave this
    /// case alone until the duplicate has merged into it (a closed case takes no merges).
    public let duplicateIndex: Int?

    public var body: JSONValue {
        [
            "category": .string(category), "priority": .string(priority), "channel": .string(channel),
            "description": .string("load report \(index): \(category) needs attention"),
            "location": ["latitude": .number(latitude), "longitude": .number(longitude)],
        ]
    }
}

/// A seeded, realistic stream of reports over a district: categories, grids and priorities drawn
/// from the catalogue and the map, some duplicates, some outside every grid. Apart from the
/// planned duplicates no two reports of one category come within the merge radius of each other,
/// so what each report becomes is known in advance (the fault suite relies on it).
public struct ReportMix: Sendable {
    public var duplicateShare = 0.05
    public var outsideShare = 0.02
    /// Of the reports outside every grid, the share an operator places into a grid.
    public var placedShare = 0.5
    public var urgentShare = 0.10
    public var emergencyShare = 0.02
    /// Reports of one category closer than this are treated as one problem by the dispatcher.
    public var separationMeters = 120.0

    private let grids: [DistrictGrid]
    private let categories: [String]
    private var random: SeededRandom
    private var count = 0
    /// The duplicate to post next, when the last report has one.
    private var queuedDuplicate: PlannedReport?
    /// Per category, the cells (about 100 m) already used: a new report avoids them and their neighbours.
    private var used: [String: Set<Cell>] = [:]

    struct Cell: Hashable { let x: Int, y: Int }

    public init(district: District, seed: UInt64) {
        grids = district.grids.sorted { $0.id < $1.id }
        // Micro-wishes wait for a volunteer's claim instead of a dispatch: not part of this mix.
        categories = district.categories.filter { !$0.volunteer }.map(\.code).sorted()
        random = SeededRandom(state: seed)
    }

    public mutating func next() -> PlannedReport {
        let index = count
        count += 1
        if let duplicate = queuedDuplicate {
            queuedDuplicate = nil
            return duplicate
        }
        let roll = random.unit()
        if roll < outsideShare {
            let place = random.unit() < placedShare ? random.pick(grids).id : nil
            return PlannedReport(
                index: index,
                category: random.pick(categories),
                priority: "normal",
                channel: "hotline",
                latitude: 31.5 + random.unit(),
                longitude: 121.5 + random.unit(),
                expectation: .outside(placeIn: place),
                duplicateIndex: nil
            )
        }
        let (report, grid) = newReport(index: index, withDuplicate: roll < outsideShare + duplicateShare)
        if report.duplicateIndex != nil {
            // A neighbour reports the same thing a few metres away, right after — inside the same
            // grid (a step across the district's edge would send it to triage instead).
            let spot =
                [(0.00005, 0.0), (-0.00005, 0.0), (0.0, 0.00005), (0.0, -0.00005)]
                .map { GeoPoint(latitude: report.latitude + $0.0, longitude: report.longitude + $0.1) }
                .first(where: grid.contains) ?? GeoPoint(latitude: report.latitude, longitude: report.longitude)
            queuedDuplicate = PlannedReport(
                index: index + 1,
                category: report.category,
                priority: report.priority,
                channel: random.pick(["app", "hotline"]),
                latitude: spot.latitude,
                longitude: spot.longitude,
                expectation: .duplicate(of: index),
                duplicateIndex: nil
            )
        }
        return report
    }

    private mutating func newReport(index: Int, withDuplicate: Bool) -> (PlannedReport, DistrictGrid) {
        let category = random.pick(categories)
        var point = GeoPoint(latitude: 0, longitude: 0)
        var grid = grids[0]
        for _ in 0..<100 {
            grid = random.pick(grids)
            point = pointInside(grid)
            let cell = Self.cell(point, size: separationMeters)
            let taken = used[category, default: []]
            if !(-1...1).contains(where: { dx in (-1...1).contains { dy in taken.contains(Cell(x: cell.x + dx, y: cell.y + dy)) } }) {
                used[category, default: []].insert(cell)
                break
            }
        }
        let priorityRoll = random.unit()
        let priority = priorityRoll < emergencyShare ? "emergency" : priorityRoll < emergencyShare + urgentShare ? "urgent" : "normal"
        var planRoll = random.unit()
        var plan = CasePlan.shares.last!.0
        for (candidate, share) in CasePlan.shares {
            if planRoll < share {
                plan = candidate
                break
            }
            planRoll -= share
        }
        let report = PlannedReport(
            index: index,
            category: category,
            priority: priority,
            channel: random.pick(["app", "hotline", "iot", "patrol"]),
            latitude: point.latitude,
            longitude: point.longitude,
            expectation: .driven(plan),
            duplicateIndex: withDuplicate ? index + 1 : nil
        )
        return (report, grid)
    }

    private mutating func pointInside(_ grid: DistrictGrid) -> GeoPoint {
        let box = grid.bounds
        for _ in 0..<50 {
            // Longitude first: the seeded mix draws in this order, and a mix must stay the same
            // from one version to the next for benchmarks to compare.
            let longitude = box.west + (box.east - box.west) * random.unit()
            let point = GeoPoint(latitude: box.south + (box.north - box.south) * random.unit(), longitude: longitude)
            if grid.contains(point) { return point }
        }
        return GeoPoint(latitude: (box.south + box.north) / 2, longitude: (box.west + box.east) / 2)
    }

    /// A square cell of about `size` metres (latitude near 30°: a degree of longitude is ~96 km).
    static func cell(_ point: GeoPoint, size: Double) -> Cell {
        Cell(x: Int((point.longitude * 96_000 / size).rounded(.down)), y: Int((point.latitude * 111_000 / size).rounded(.down)))
    }
}
