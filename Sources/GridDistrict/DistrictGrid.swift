import GridSchema

/// One grid of the district: its place in the hierarchy and its area (one or more polygons).
public struct DistrictGrid: Sendable, Hashable, Identifiable {
    public var id: String
    public var name: String
    public var community: String
    public var town: String
    public var district: String
    public var polygons: [GeoPolygon]
    public let bounds: GeoBox

    public init(id: String, name: String, community: String, town: String, district: String, polygons: [GeoPolygon]) {
        self.id = id
        self.name = name
        self.community = community
        self.town = town
        self.district = district
        self.polygons = polygons
        self.bounds = polygons.dropFirst().reduce(polygons.first?.bounds ?? GeoBox(west: 0, south: 0, east: 0, north: 0)) { $0.union($1.bounds) }
    }

    public func contains(_ point: GeoPoint) -> Bool { polygons.contains { $0.contains(point) } }
}
