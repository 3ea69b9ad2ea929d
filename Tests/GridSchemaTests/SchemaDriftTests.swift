import Foundation
import GridJSON
import GridSchema
import Testing

/// The JSON Schema files in docs/schemas are for peers that are not written in Swift. These tests
/// fail when the files, the schema declarations and the Codable types stop agreeing.
@Suite struct SchemaDriftTests {
    static let schemaDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/schemas")

    @Test func committedFilesMatchTheSwiftDeclarations() throws {
        let expected = SchemaCatalog.files()
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: Self.schemaDirectory.path).filter { $0.hasSuffix(".json") })
        #expect(present == Set(expected.keys), "run `make schemas` to regenerate docs/schemas")
        for (name, text) in expected {
            let committed = try String(contentsOf: Self.schemaDirectory.appendingPathComponent(name), encoding: .utf8)
            #expect(committed == text, "docs/schemas/\(name) is stale: run `make schemas`")
        }
    }

    /// The full example sets every member, so its keys must be exactly the schema's properties, with
    /// the declared JSON types; the minimal example leaves out every optional member, so its keys must
    /// be exactly the schema's required members.
    @Test(arguments: EventType.allCases)
    func schemaAgreesWithTheCodableType(type: EventType) throws {
        let payload = type.payloadType
        let full = try encodedObject(payload.example)
        let minimal = try encodedObject(payload.minimalExample)
        let properties = Dictionary(uniqueKeysWithValues: payload.schema.properties.map { ($0.name, $0.schema) })
        #expect(Set(full.keys) == Set(properties.keys), "\(type.rawValue): members differ from the schema")
        #expect(Set(minimal.keys) == Set(payload.schema.properties.filter(\.required).map(\.name)), "\(type.rawValue): required members differ")
        for (name, value) in full {
            guard let schema = properties[name] else { continue }
            #expect(jsonType(of: value, expected: schema.jsonType) == schema.jsonType, "\(type.rawValue).\(name)")
        }
        #expect(full["schemaVersion"] == .integer(Int64(payload.currentSchemaVersion)))
    }

    private func encodedObject(_ payload: any EventPayload) throws -> [String: JSONValue] {
        let data = try GridJSON.encoder().encode(payload)
        guard case .object(let object) = try GridJSON.decoder().decode(JSONValue.self, from: data) else {
            Issue.record("payload did not encode to an object")
            return [:]
        }
        return object
    }

    private func jsonType(of value: JSONValue, expected: String) -> String {
        switch value {
        case .string: "string"
        case .array: "array"
        case .object: "object"
        case .bool: "boolean"
        case .integer: expected == "number" ? "number" : "integer"  // an integral number still satisfies "number"
        case .number: "number"
        case .null: "null"
        }
    }
}
