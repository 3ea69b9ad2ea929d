/// The `data` of one event type. Every payload carries `schemaVersion`, so that a consumer can
/// refuse what it cannot read (``PayloadError/unsupportedSchemaVersion(type:found:supported:)``).
public protocol EventPayload: Codable, Sendable, Hashable {
    static var eventType: EventType { get }
    /// The newest schema version this build writes and reads.
    static var currentSchemaVersion: Int { get }
    /// The JSON Schema of `data`; exported to `schemas/` and checked against the Codable shape by tests.
    static var schema: JSONSchema { get }
    /// A value with every optional member set (tests use it to check the schema's members).
    static var example: Self { get }
    /// A value with every optional member left out (tests use it to check the schema's `required`).
    static var minimalExample: Self { get }

    var schemaVersion: Int { get }
}

extension EventPayload {
    /// Where the exported schema of this payload lives, used as the event's `dataschema`.
    public static var schemaURI: String { "https://gridbus.dev/schemas/\(eventType.rawValue).json" }
    public static var schemaFileName: String { "\(eventType.rawValue).schema.json" }
}

/// Schema fragments shared by several payloads.
enum Fields {
    static let schemaVersion = JSONSchema.Property.required("schemaVersion", .integer(minimum: 1), "Version of this payload's schema")
    static let incidentID = JSONSchema.Property.required("incidentId", .string(maxLength: 128), "The incident's id, assigned by the intake")
    static let memberID = JSONSchema.string(maxLength: 128)
    static let note = JSONSchema.string(maxLength: 4000)
}
