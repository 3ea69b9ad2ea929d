#if canImport(FoundationEssentials)
import FoundationEssentials
import GridJSON
#else
import Foundation
#endif

/// A CloudEvents 1.0 event in JSON format, as the bus carries it.
///
/// Workers build and read events with this type; the daemon never decodes one (it uses
/// ``EnvelopeScanner``). Extension attributes other than the ones GridBus names are kept as they are.
public struct CloudEvent: Sendable, Hashable, Codable {
    public var specversion: String
    public var id: String
    public var source: String
    public var type: String
    public var time: String?
    public var subject: String?
    public var datacontenttype: String?
    public var dataschema: String?
    public var data: JSONValue?
    /// Extension attributes, including `grid` and the bus's `gridbusseq`.
    public var extensions: [String: JSONValue]

    public init(
        id: String = UUID().uuidString.lowercased(),
        source: String,
        type: String,
        time: Date? = Date(),
        subject: String? = nil,
        grid: String? = nil,
        data: JSONValue? = nil,
        extensions: [String: JSONValue] = [:]
    ) {
        self.specversion = EnvelopeRules.specVersion
        self.id = id
        self.source = source
        self.type = type
        self.time = time.map(RFC3339.format)
        self.subject = subject
        self.datacontenttype = data == nil ? nil : "application/json"
        self.dataschema = nil
        self.data = data
        self.extensions = extensions
        if let grid { self.extensions[EnvelopeRules.gridAttribute] = .string(grid) }
    }

    /// Builds an event carrying `payload`, typed by the payload's ``EventPayload/eventType``.
    public init<Payload: EventPayload>(
        id: String = UUID().uuidString.lowercased(),
        source: String,
        payload: Payload,
        subject: String? = nil,
        grid: String? = nil,
        time: Date = Date()
    ) throws {
        let data = try JSONValue(parsing: JSONTreeEncoder().encode(payload))
        self.init(id: id, source: source, type: Payload.eventType.rawValue, time: time, subject: subject, grid: grid, data: data)
        self.dataschema = Payload.schemaURI
    }

    /// The grid the event concerns (extension attribute `grid`).
    public var grid: String? { extensions[EnvelopeRules.gridAttribute]?.stringValue }
    /// The global sequence the bus gave the event (extension attribute `gridbusseq`), once journaled.
    public var sequence: UInt64? { extensions[EnvelopeRules.sequenceAttribute]?.integerValue.map { UInt64($0) } }
    public var eventType: EventType? { EventType(rawValue: type) }
    public var topic: Topic { Topic(typeName: type, grid: grid) }

    // MARK: Payloads

    /// Decodes `data` as `Payload`, refusing a different type or a schema version newer than this build reads.
    public func payload<Payload: EventPayload>(as: Payload.Type = Payload.self) throws(PayloadError) -> Payload {
        guard type == Payload.eventType.rawValue else { throw .wrongType(expected: Payload.eventType.rawValue, found: type) }
        guard case .object(let object)? = data else { throw .missingData(type: type) }
        guard let version = object["schemaVersion"]?.integerValue else { throw .missingSchemaVersion(type: type) }
        guard version >= 1, version <= Payload.currentSchemaVersion else {
            throw .unsupportedSchemaVersion(type: type, found: Int(version), supported: Payload.currentSchemaVersion)
        }
        do {
            return try JSONTreeDecoder().decode(Payload.self, from: .object(object))
        } catch let error as DecodingError {
            throw .invalid(type: type, reason: PayloadError.describe(error))
        } catch {
            throw .invalid(type: type, reason: "\(error)")
        }
    }

    /// Decodes `data` as the payload type its `type` names (``EventType/payloadType``), for a
    /// consumer of several types: `switch try event.typedPayload() { case let dispatched as IncidentDispatched: … }`.
    public func typedPayload() throws(PayloadError) -> any EventPayload {
        guard let eventType else { throw .wrongType(expected: "a type of the registry", found: type) }
        func decode<Payload: EventPayload>(_: Payload.Type) throws(PayloadError) -> any EventPayload { try payload(as: Payload.self) }
        return try decode(eventType.payloadType)
    }

    // MARK: Wire format

    public func jsonBytes() throws -> [UInt8] { try JSONTreeEncoder().encode(self) }

    /// Reads an event in one pass (``JSONReader``; every worker reads every event it follows).
    /// Only the JSON shape is checked, as `Decodable` would: ``validate()`` checks the rules.
    public static func decode(_ bytes: [UInt8]) throws -> CloudEvent {
        try JSONReader.read(bytes) { reader in
            var event = CloudEvent(id: "", source: "", type: "", time: nil)
            var required: (specversion: String?, id: String?, source: String?, type: String?)
            try reader.readObject { name, reader in
                switch name {
                case "specversion": required.specversion = try reader.readString()
                case "id": required.id = try reader.readString()
                case "source": required.source = try reader.readString()
                case "type": required.type = try reader.readString()
                case "time": event.time = try reader.readOptionalString()
                case "subject": event.subject = try reader.readOptionalString()
                case "datacontenttype": event.datacontenttype = try reader.readOptionalString()
                case "dataschema": event.dataschema = try reader.readOptionalString()
                case "data": event.data = reader.readNull() ? nil : try reader.readValue()
                case _ where EnvelopeRules.contextAttributes.contains(name): try reader.skipValue()  // data_base64: not carried
                default: event.extensions[name] = try reader.readValue()
                }
            }
            guard let specversion = required.specversion, let id = required.id, let source = required.source, let type = required.type else {
                let missing = [("specversion", required.specversion), ("id", required.id), ("source", required.source), ("type", required.type)]
                    .filter { $0.1 == nil }.map(\.0)
                throw JSONReadError(offset: 0, "an event needs \(missing.map { "'\($0)'" }.joined(separator: ", "))")
            }
            (event.specversion, event.id, event.source, event.type) = (specversion, id, source, type)
            return event
        }
    }

    /// Checks the same rules the daemon enforces, so a worker finds out before publishing.
    public func validate() throws(EnvelopeError) {
        try EnvelopeRules.checkSpecVersion(specversion)
        try EnvelopeRules.checkID(id)
        try EnvelopeRules.checkSource(source)
        _ = try EnvelopeRules.checkType(type)
        if let time { try EnvelopeRules.checkTime(time) }
        if let subject { try EnvelopeRules.checkNonEmpty(subject, attribute: "subject") }
        if let datacontenttype { try EnvelopeRules.checkDataContentType(datacontenttype) }
        for (name, value) in extensions {
            if name == EnvelopeRules.gridAttribute {
                guard let grid = value.stringValue else { throw EnvelopeError(.invalid, attribute: name, "must be a string") }
                try EnvelopeRules.checkGrid(grid)
            } else if name != EnvelopeRules.sequenceAttribute {
                try EnvelopeRules.checkExtensionName(name)
            }
        }
    }

    // MARK: Codable

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        specversion = try container.decode(String.self, forKey: Key("specversion"))
        id = try container.decode(String.self, forKey: Key("id"))
        source = try container.decode(String.self, forKey: Key("source"))
        type = try container.decode(String.self, forKey: Key("type"))
        time = try container.decodeIfPresent(String.self, forKey: Key("time"))
        subject = try container.decodeIfPresent(String.self, forKey: Key("subject"))
        datacontenttype = try container.decodeIfPresent(String.self, forKey: Key("datacontenttype"))
        dataschema = try container.decodeIfPresent(String.self, forKey: Key("dataschema"))
        data = try container.decodeIfPresent(JSONValue.self, forKey: Key("data"))
        var extensions: [String: JSONValue] = [:]
        for key in container.allKeys where !EnvelopeRules.contextAttributes.contains(key.stringValue) {
            extensions[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        self.extensions = extensions
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(specversion, forKey: Key("specversion"))
        try container.encode(id, forKey: Key("id"))
        try container.encode(source, forKey: Key("source"))
        try container.encode(type, forKey: Key("type"))
        try container.encodeIfPresent(time, forKey: Key("time"))
        try container.encodeIfPresent(subject, forKey: Key("subject"))
        try container.encodeIfPresent(datacontenttype, forKey: Key("datacontenttype"))
        try container.encodeIfPresent(dataschema, forKey: Key("dataschema"))
        try container.encodeIfPresent(data, forKey: Key("data"))
        for (name, value) in extensions { try container.encode(value, forKey: Key(name)) }
    }
}

/// Why a consumer could not read an event's payload. Never a crash: the caller decides (log, skip, dead-letter).
public enum PayloadError: Error, Sendable, Hashable, CustomStringConvertible {
    case wrongType(expected: String, found: String)
    case missingData(type: String)
    case missingSchemaVersion(type: String)
    case unsupportedSchemaVersion(type: String, found: Int, supported: Int)
    case invalid(type: String, reason: String)

    public var description: String {
        switch self {
        case .wrongType(let expected, let found): "expected a \(expected) event, got \(found)"
        case .missingData(let type): "\(type): 'data' must be a JSON object"
        case .missingSchemaVersion(let type): "\(type): data.schemaVersion is missing"
        case .unsupportedSchemaVersion(let type, let found, let supported):
            "\(type): data.schemaVersion \(found) is not supported (this build reads 1 to \(supported))"
        case .invalid(let type, let reason): "\(type): \(reason)"
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            (["data"] + context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue) is required"
        case .typeMismatch(let type, let context): return "\(path(context)) must be \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)) must be \(type), got null"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
