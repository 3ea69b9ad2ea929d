import GridDistrict
import GridSchema
import Testing

@Suite struct GeometryTests {
    func ring(_ points: [(Double, Double)]) -> [GeoPoint] {
        let positions = points.map { GeoPoint(latitude: $0.1, longitude: $0.0) }
        return positions + [positions[0]]
    }

    @Test func aPolygonWithAHoleAndAConcaveEdge() {
        // A "U": the notch between the arms is outside; a hole in the base is outside too.
        let u = GeoPolygon(
            outer: ring([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)]),
            holes: [ring([(1.2, 0.2), (1.8, 0.2), (1.8, 0.6), (1.2, 0.6)])]
        )
        #expect(u.contains(GeoPoint(latitude: 2, longitude: 0.5)))
        #expect(u.contains(GeoPoint(latitude: 2, longitude: 2.5)))
        #expect(!u.contains(GeoPoint(latitude: 2, longitude: 1.5)))  // the notch
        #expect(!u.contains(GeoPoint(latitude: 0.4, longitude: 1.5)))  // the hole
        #expect(u.contains(GeoPoint(latitude: 0.4, longitude: 0.5)))
        #expect(!u.contains(GeoPoint(latitude: 1, longitude: 4)))
    }

    /// The index must answer exactly what testing every grid answers.
    @Test func theIndexAgreesWithTestingEveryGrid() {
        let grids = SampleDistrict(gridCount: 884).generate().grids
        let index = GridIndex(grids: grids)
        var random = SystemRandomNumberGenerator()
        var inside = 0
        for _ in 0..<20_000 {
            let point = GeoPoint(
                latitude: Double.random(in: 30.09...30.36, using: &random),
                longitude: Double.random(in: 119.99...120.36, using: &random)
            )
            let expected = grids.filter { $0.contains(point) }
            #expect(expected.count <= 1, "grids overlap at \(point)")
            #expect(index.grid(containing: point)?.id == expected.first?.id)
            if !expected.isEmpty { inside += 1 }
        }
        #expect(inside > 10_000)  // the points really exercised the grids
    }
}
