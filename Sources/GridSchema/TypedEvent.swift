#if canImport(FoundationEssentials)
import FoundationEssentials
import GridJSON
#else
import Foundation
#endif

/// A CloudEvent with a typed payload, written in one JSON pass: the hot-path way to publish
/// (``CloudEvent/init(id:source:payload:subject:grid:time:)`` goes through ``JSONValue`` and
/// encodes twice). The bytes are the same event, and the bus checks them like any other.
public struct TypedEvent<Payload: EventPayload>: Encodable, Sendable {
    public let id: String
    public let source: String
    public let time: Date
    public let subject: String?
    public let grid: String?
    public let data: Payload

    public init(id: String, source: String, payload: Payload, subject: String? = nil, grid: String? = nil, time: Date = Date()) {
        self.id = id
        self.source = source
        self.data = payload
        self.subject = subject
        self.grid = grid
        self.time = time
    }

    private enum CodingKeys: String, CodingKey {
        case specversion, id, source, type, time, subject, datacontenttype, dataschema, grid, data
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(EnvelopeRules.specVersion, forKey: .specversion)
        try container.encode(id, forKey: .id)
        try container.encode(source, forKey: .source)
        try container.encode(Payload.eventType.rawValue, forKey: .type)
        try container.encode(RFC3339.format(time), forKey: .time)
        try container.encodeIfPresent(subject, forKey: .subject)
        try container.encode("application/json", forKey: .datacontenttype)
        try container.encode(Payload.schemaURI, forKey: .dataschema)
        try container.encodeIfPresent(grid, forKey: .grid)
        try container.encode(data, forKey: .data)
    }

    /// The event as CloudEvents JSON, checked against the envelope rules the daemon applies.
    public func jsonBytes() throws -> [UInt8] {
        let bytes = try JSONTreeEncoder().encode(self)
        _ = try EnvelopeScanner.scan(bytes)
        return bytes
    }
}
