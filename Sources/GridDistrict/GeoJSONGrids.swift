import Foundation
import GridConfiguration
import GridJSON
import GridSchema

/// Reads grids from a GeoJSON FeatureCollection: one Feature per grid, geometry Polygon or
/// MultiPolygon, properties `id`, `name`, `community`, `town`, `district`.
/// Errors name the file, the feature (`features[12]`, with its id when known) and the field.
public enum GeoJSONGrids {
    public static let properties = ["id", "name", "community", "town", "district"]

    public static func load(_ file: String) throws(DefinitionError) -> [DistrictGrid] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw DefinitionError(file: file, field: "", reason: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(data, file: file)
    }

    public static func parse(_ data: Data, file: String) throws(DefinitionError) -> [DistrictGrid] {
        let collection: JSONValue
        do { collection = try JSONValue(parsing: [UInt8](data)) } catch {
            throw DefinitionError(file: file, field: "", reason: "not valid JSON: \(error)")
        }
        guard collection["type"]?.stringValue == "FeatureCollection" else {
            throw DefinitionError(file: file, field: "type", reason: "the top level must be a GeoJSON FeatureCollection")
        }
        guard let features = collection["features"]?.arrayValue else {
            throw DefinitionError(file: file, field: "features", reason: "must be a list of features")
        }
        var grids: [DistrictGrid] = []
        var seen: [String: Int] = [:]
        for (index, item) in features.enumerated() {
            var place = "features[\(index)]"
            func error(_ field: String, _ reason: String) -> DefinitionError {
                DefinitionError(file: file, field: "\(place).\(field)", reason: reason)
            }
            guard item["type"]?.stringValue == "Feature", let feature = item.objectValue else {
                throw DefinitionError(file: file, field: place, reason: "must be a GeoJSON Feature")
            }
            guard let properties = feature["properties"]?.objectValue else { throw error("properties", "must be an object") }
            var values: [String: String] = [:]
            for name in Self.properties {
                guard let value = properties[name]?.stringValue, !value.isEmpty else {
                    throw error("properties.\(name)", "is required (a non-empty string)")
                }
                values[name] = value
            }
            let id = values["id"]!
            place += " (grid \(id))"
            guard id.utf8.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._:-".contains($0)) }), id != "-" else {
                throw error("properties.id", "'\(id)' must be 1–64 of A–Z a–z 0–9 . _ : - (it is the bus topic's grid)")
            }
            if let first = seen[id] { throw error("properties.id", "'\(id)' is also the id of features[\(first)]") }
            seen[id] = index
            guard let geometry = feature["geometry"], geometry.objectValue != nil else { throw error("geometry", "must be an object") }
            let polygons: [GeoPolygon]
            switch geometry["type"]?.stringValue {
            case "Polygon":
                polygons = [try polygon(geometry["coordinates"], field: "geometry.coordinates", error)]
            case "MultiPolygon":
                guard let parts = geometry["coordinates"]?.arrayValue, !parts.isEmpty else {
                    throw error("geometry.coordinates", "a MultiPolygon needs at least one polygon")
                }
                polygons = try parts.enumerated().map { (offset, part) throws(DefinitionError) in
                    try polygon(part, field: "geometry.coordinates[\(offset)]", error)
                }
            default:
                throw error("geometry.type", "must be Polygon or MultiPolygon")
            }
            grids.append(
                DistrictGrid(
                    id: id,
                    name: values["name"]!,
                    community: values["community"]!,
                    town: values["town"]!,
                    district: values["district"]!,
                    polygons: polygons
                )
            )
        }
        return grids
    }

    private static func polygon(
        _ value: JSONValue?,
        field: String,
        _ error: (String, String) -> DefinitionError
    ) throws(DefinitionError) -> GeoPolygon {
        guard let rings = value?.arrayValue, !rings.isEmpty else { throw error(field, "a Polygon is a list of rings (the outer one first)") }
        var parsed: [[GeoPoint]] = []
        for (ringIndex, ringValue) in rings.enumerated() {
            guard let positions = ringValue.arrayValue else { throw error("\(field)[\(ringIndex)]", "a ring is a list of positions") }
            var ring: [GeoPoint] = []
            for (positionIndex, positionValue) in positions.enumerated() {
                let place = "\(field)[\(ringIndex)][\(positionIndex)]"
                guard let pair = positionValue.arrayValue, pair.count >= 2, let longitude = pair[0].doubleValue,
                    let latitude = pair[1].doubleValue
                else { throw error(place, "a position is [longitude, latitude]") }
                guard (-180...180).contains(longitude), (-90...90).contains(latitude) else {
                    throw error(place, "[\(longitude), \(latitude)] is out of range (longitude first, then latitude)")
                }
                ring.append(GeoPoint(latitude: latitude, longitude: longitude))
            }
            guard ring.count >= 4, ring.first == ring.last else {
                throw error("\(field)[\(ringIndex)]", "a ring needs at least 4 positions and must end where it starts")
            }
            parsed.append(ring)
        }
        return GeoPolygon(outer: parsed[0], holes: Array(parsed.dropFirst()))
    }

    /// The grids as a FeatureCollection (for the sample generator).
    public static func encode(_ grids: [DistrictGrid]) throws -> [UInt8] {
        func ring(_ positions: [GeoPoint]) -> JSONValue { .array(positions.map { [.number($0.longitude), .number($0.latitude)] }) }
        func rings(_ polygon: GeoPolygon) -> JSONValue { .array([ring(polygon.outer)] + polygon.holes.map(ring)) }
        let features: [JSONValue] = grids.map { grid in
            let geometry: JSONValue =
                grid.polygons.count == 1
                ? ["type": "Polygon", "coordinates": rings(grid.polygons[0])]
                : ["type": "MultiPolygon", "coordinates": .array(grid.polygons.map(rings))]
            return [
                "type": "Feature",
                "properties": [
                    "id": .string(grid.id), "name": .string(grid.name), "community": .string(grid.community), "town": .string(grid.town),
                    "district": .string(grid.district),
                ],
                "geometry": geometry,
            ]
        }
        return try JSONValue.object(["type": "FeatureCollection", "features": .array(features)]).jsonBytes()
    }
}
