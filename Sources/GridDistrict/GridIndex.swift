import GridSchema

/// Point-in-grid lookup: a uniform bucket grid over the district's bounds, each bucket listing the
/// grids whose bounding box overlaps it; a lookup tests only those (bounding box, then polygon).
/// Built once; immutable and shareable.
public struct GridIndex: Sendable {
    public let grids: [DistrictGrid]
    private let bounds: GeoBox
    private let columns: Int
    private let rows: Int
    private let buckets: [[Int32]]

    /// - Parameter gridsPerBucket: the target average; about 2 keeps both memory and lookups small.
    public init(grids: [DistrictGrid], gridsPerBucket: Double = 2) {
        self.grids = grids
        let bounds = grids.dropFirst().reduce(grids.first?.bounds ?? GeoBox(west: 0, south: 0, east: 1, north: 1)) { $0.union($1.bounds) }
        self.bounds = bounds
        let cells = max(1, Double(grids.count) / gridsPerBucket)
        let width = max(bounds.east - bounds.west, 1e-9)
        let height = max(bounds.north - bounds.south, 1e-9)
        // Square-ish buckets in degrees.
        let side = (width * height / cells).squareRoot()
        columns = max(1, min(4096, Int((width / side).rounded(.up))))
        rows = max(1, min(4096, Int((height / side).rounded(.up))))
        var buckets = [[Int32]](repeating: [], count: columns * rows)
        for (index, grid) in grids.enumerated() {
            let (c0, r0) = Self.cell(GeoPoint(latitude: grid.bounds.south, longitude: grid.bounds.west), bounds, columns, rows)
            let (c1, r1) = Self.cell(GeoPoint(latitude: grid.bounds.north, longitude: grid.bounds.east), bounds, columns, rows)
            for row in r0...r1 {
                for column in c0...c1 { buckets[row * columns + column].append(Int32(index)) }
            }
        }
        self.buckets = buckets
    }

    /// The grid containing `point`, or nil when it lies outside every grid.
    public func grid(containing point: GeoPoint) -> DistrictGrid? {
        guard bounds.contains(point) else { return nil }
        let (column, row) = Self.cell(point, bounds, columns, rows)
        for index in buckets[row * columns + column] where grids[Int(index)].contains(point) { return grids[Int(index)] }
        return nil
    }

    private static func cell(_ point: GeoPoint, _ bounds: GeoBox, _ columns: Int, _ rows: Int) -> (Int, Int) {
        let x = (point.longitude - bounds.west) / max(bounds.east - bounds.west, 1e-9)
        let y = (point.latitude - bounds.south) / max(bounds.north - bounds.south, 1e-9)
        return (min(columns - 1, max(0, Int(x * Double(columns)))), min(rows - 1, max(0, Int(y * Double(rows)))))
    }
}
