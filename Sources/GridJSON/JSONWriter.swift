#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Writes a JSON object member by member, for the records a worker stores on every event (the
/// counterpart of ``JSONReader``; Foundation's `JSONEncoder` costs ten times as much). A member
/// whose value is nil is left out. Times are RFC 3339 to the millisecond (``RFC3339/format(_:)``).
public struct JSONObjectWriter {
    public private(set) var bytes: [UInt8]
    private var empty = true

    init(into bytes: [UInt8]) {
        self.bytes = bytes
        self.bytes.append(UInt8(ascii: "{"))
    }

    /// The bytes of one object written by `body`.
    public static func object(_ body: (inout JSONObjectWriter) -> Void) -> [UInt8] {
        var writer = JSONObjectWriter(into: [])
        writer.bytes.reserveCapacity(256)
        body(&writer)
        return writer.finished()
    }

    mutating func finished() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private mutating func name(_ name: String) {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        Self.appendString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func string(_ name: String, _ value: String?) {
        guard let value else { return }
        self.name(name)
        Self.appendString(value, to: &bytes)
    }

    public mutating func int(_ name: String, _ value: Int?) {
        guard let value else { return }
        self.name(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func bool(_ name: String, _ value: Bool?) {
        guard let value else { return }
        self.name(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func date(_ name: String, _ value: Date?) {
        guard let value else { return }
        string(name, RFC3339.format(value))
    }

    public mutating func strings(_ name: String, _ values: [String]?) {
        guard let values else { return }
        self.name(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendString(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A nested object.
    public mutating func object(_ name: String, _ body: (inout JSONObjectWriter) -> Void) {
        self.name(name)
        var nested = JSONObjectWriter(into: bytes)
        bytes = []  // the nested writer owns the buffer until it is done: no copy
        body(&nested)
        bytes = nested.finished()
    }

    /// An array of nested objects, one per element.
    public mutating func objects<S: Sequence>(_ name: String, _ elements: S?, _ body: (S.Element, inout JSONObjectWriter) -> Void) {
        guard let elements else { return }
        self.name(name)
        bytes.append(UInt8(ascii: "["))
        var first = true
        for element in elements {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            var nested = JSONObjectWriter(into: bytes)
            bytes = []
            body(element, &nested)
            bytes = nested.finished()
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Any value as JSON text (object members in key order, as GridJSON's encoder writes them).
    public static func bytes(of value: JSONValue) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        append(value, to: &bytes)
        return bytes
    }

    static func append(_ value: JSONValue, to bytes: inout [UInt8]) {
        switch value {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .integer(let integer): bytes.append(contentsOf: String(integer).utf8)
        case .number(let number):
            // JSON has no NaN or infinity; JSONValue never holds them from parsed text.
            bytes.append(contentsOf: (number.isFinite ? "\(number)" : "null").utf8)
        case .string(let text): appendString(text, to: &bytes)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                append(item, to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, name) in members.keys.sorted().enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendString(name, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                append(members[name]!, to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped, the rest as UTF-8. The
    /// runs between escapes are copied whole (byte by byte, this was the encoders' largest cost).
    static func appendString(_ value: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                appendEscape(of: byte, to: &bytes)
                start = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(of byte: UInt8, to bytes: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        default:
            let hex: StaticString = "0123456789abcdef"
            bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), 48, 48, hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 0xF)]])
        }
    }
}
