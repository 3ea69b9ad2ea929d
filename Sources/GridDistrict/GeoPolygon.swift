import GridSchema

/// An axis-aligned box in degrees.
public struct GeoBox: Sendable, Hashable {
    public var west, south, east, north: Double

    public init(west: Double, south: Double, east: Double, north: Double) {
        self.west = west
        self.south = south
        self.east = east
        self.north = north
    }

    init(_ positions: [GeoPoint]) {
        west = positions.map(\.longitude).min() ?? 0
        east = positions.map(\.longitude).max() ?? 0
        south = positions.map(\.latitude).min() ?? 0
        north = positions.map(\.latitude).max() ?? 0
    }

    public func contains(_ point: GeoPoint) -> Bool {
        point.longitude >= west && point.longitude <= east && point.latitude >= south && point.latitude <= north
    }

    func union(_ other: GeoBox) -> GeoBox {
        GeoBox(west: min(west, other.west), south: min(south, other.south), east: max(east, other.east), north: max(north, other.north))
    }
}

/// A GeoJSON polygon: an outer ring and holes, each closed (first position = last).
public struct GeoPolygon: Sendable, Hashable {
    public var outer: [GeoPoint]
    public var holes: [[GeoPoint]]
    public let bounds: GeoBox

    public init(outer: [GeoPoint], holes: [[GeoPoint]] = []) {
        self.outer = outer
        self.holes = holes
        self.bounds = GeoBox(outer)
    }

    /// Inside the outer ring and in no hole. Points exactly on an edge may fall either way, as with
    /// any even-odd test; neighbouring grids share edges, so such a point lands in one of them.
    public func contains(_ point: GeoPoint) -> Bool {
        guard bounds.contains(point), Self.ring(outer, contains: point) else { return false }
        return !holes.contains { Self.ring($0, contains: point) }
    }

    /// Even-odd ray casting towards +longitude.
    static func ring(_ ring: [GeoPoint], contains point: GeoPoint) -> Bool {
        var inside = false
        var previous = ring.count - 1
        for current in ring.indices {
            let a = ring[current]
            let b = ring[previous]
            if (a.latitude > point.latitude) != (b.latitude > point.latitude) {
                let crossing = (b.longitude - a.longitude) * (point.latitude - a.latitude) / (b.latitude - a.latitude) + a.longitude
                if point.longitude < crossing { inside.toggle() }
            }
            previous = current
        }
        return inside
    }
}
