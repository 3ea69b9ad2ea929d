import Foundation
import GridConfiguration
import GridSchema

/// A district: its grids (with a spatial index), the members of their teams, and the category
/// catalogue; loaded from a directory holding `grids.geojson`, `roster.csv` and `categories.csv`.
public struct District: Sendable {
    public let index: GridIndex
    public let gridsByID: [String: DistrictGrid]
    public let members: [Member]
    public let membersByID: [String: Member]
    /// Each grid's team, in roster order: `members(of:)` is a lookup, not a scan of the roster.
    private let teams: [String: [Member]]
    public let categories: [Category]
    public let categoriesByCode: [String: Category]
    public let categoriesByServiceCode: [String: Category]

    public static let files = (grids: "grids.geojson", roster: "roster.csv", categories: "categories.csv")

    public init(grids: [DistrictGrid], members: [Member], categories: [Category]) {
        index = GridIndex(grids: grids)
        gridsByID = Dictionary(uniqueKeysWithValues: grids.map { ($0.id, $0) })
        self.members = members
        membersByID = Dictionary(members.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var teams: [String: [Member]] = [:]
        for member in members { for grid in member.grids { teams[grid, default: []].append(member) } }
        self.teams = teams
        self.categories = categories
        categoriesByCode = Dictionary(uniqueKeysWithValues: categories.map { ($0.code, $0) })
        categoriesByServiceCode = Dictionary(uniqueKeysWithValues: categories.map { ($0.serviceCode, $0) })
    }

    /// Loads and cross-checks the three files; errors name the file, the feature or row, and the field.
    public static func load(directory: String) throws(DefinitionError) -> District {
        let path = { (name: String) in (directory as NSString).appendingPathComponent(name) }
        let grids = try GeoJSONGrids.load(path(files.grids))
        let members = try RosterFile.load(path(files.roster), knownGrids: Set(grids.map(\.id)))
        let categories = try CatalogueFile.load(path(files.categories))
        return District(grids: grids, members: members, categories: categories)
    }

    public var grids: [DistrictGrid] { index.grids }

    /// The grid at a position, or nil outside every grid.
    public func grid(at position: GeoPoint) -> DistrictGrid? { index.grid(containing: position) }

    public func members(of grid: String) -> [Member] { teams[grid] ?? [] }
}
