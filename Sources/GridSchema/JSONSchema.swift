#if canImport(FoundationEssentials)
import FoundationEssentials
import GridJSON
#else
import Foundation
#endif

/// The small subset of JSON Schema (draft 2020-12) that GridBus payloads need.
public indirect enum JSONSchema: Sendable, Hashable {
    case string(format: String? = nil, enumeration: [String]? = nil, maxLength: Int? = nil)
    case integer(minimum: Int? = nil)
    case number(minimum: Double? = nil, maximum: Double? = nil)
    case boolean
    case array(JSONSchema)
    case object([Property], additionalProperties: Bool = false)
    /// A JSON object with free-form members (extension points such as attributes).
    case freeObject

    /// A member of an object schema; required unless `optional`.
    public struct Property: Sendable, Hashable {
        public let name: String
        public let schema: JSONSchema
        public let required: Bool
        public let description: String?

        public static func required(_ name: String, _ schema: JSONSchema, _ description: String? = nil) -> Property {
            Property(name: name, schema: schema, required: true, description: description)
        }
        public static func optional(_ name: String, _ schema: JSONSchema, _ description: String? = nil) -> Property {
            Property(name: name, schema: schema, required: false, description: description)
        }
    }

    public static let dateTime = JSONSchema.string(format: "date-time")
    public static let uri = JSONSchema.string(format: "uri")

    /// The JSON type name this schema accepts.
    public var jsonType: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .number: "number"
        case .boolean: "boolean"
        case .array: "array"
        case .object, .freeObject: "object"
        }
    }

    public var properties: [Property] { if case .object(let properties, _) = self { properties } else { [] } }

    /// The schema as a JSON value.
    public var jsonValue: JSONValue {
        var result: [String: JSONValue] = ["type": .string(jsonType)]
        switch self {
        case .string(let format, let enumeration, let maxLength):
            if let format { result["format"] = .string(format) }
            if let enumeration { result["enum"] = .array(enumeration.map(JSONValue.string)) }
            if let maxLength { result["maxLength"] = .integer(Int64(maxLength)) }
        case .integer(let minimum):
            if let minimum { result["minimum"] = .integer(Int64(minimum)) }
        case .number(let minimum, let maximum):
            if let minimum { result["minimum"] = .number(minimum) }
            if let maximum { result["maximum"] = .number(maximum) }
        case .boolean, .freeObject:
            break
        case .array(let items):
            result["items"] = items.jsonValue
        case .object(let properties, let additionalProperties):
            var members: [String: JSONValue] = [:]
            for property in properties {
                var member = property.schema.jsonValue
                if let description = property.description, case .object(var fields) = member {
                    fields["description"] = .string(description)
                    member = .object(fields)
                }
                members[property.name] = member
            }
            result["properties"] = .object(members)
            result["required"] = .array(properties.filter(\.required).map { .string($0.name) })
            result["additionalProperties"] = .bool(additionalProperties)
        }
        return .object(result)
    }

    /// A whole schema document: `$schema`, `$id` and `title` around this schema.
    public func document(id: String, title: String, description: String) -> JSONValue {
        guard case .object(var fields) = jsonValue else { return jsonValue }
        fields["$schema"] = .string("https://json-schema.org/draft/2020-12/schema")
        fields["$id"] = .string(id)
        fields["title"] = .string(title)
        fields["description"] = .string(description)
        return .object(fields)
    }
}

extension JSONValue {
    /// Canonical text: sorted keys, two-space indentation, trailing newline (stable for committed files).
    public func canonicalText() -> String {
        var output = ""
        write(into: &output, indent: 0)
        return output + "\n"
    }

    private func write(into output: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closePad = String(repeating: "  ", count: indent)
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .integer(let value): output += String(value)
        case .number(let value): output += value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let value): output += Self.quote(value)
        case .array(let values):
            if values.isEmpty {
                output += "[]"
                return
            }
            output += "[\n"
            for (index, value) in values.enumerated() {
                output += pad
                value.write(into: &output, indent: indent + 1)
                output += index < values.count - 1 ? ",\n" : "\n"
            }
            output += closePad + "]"
        case .object(let members):
            if members.isEmpty {
                output += "{}"
                return
            }
            output += "{\n"
            let keys = members.keys.sorted()
            for (index, key) in keys.enumerated() {
                output += pad + Self.quote(key) + ": "
                members[key]!.write(into: &output, indent: indent + 1)
                output += index < keys.count - 1 ? ",\n" : "\n"
            }
            output += closePad + "}"
        }
    }

    private static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 {
                    result += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
