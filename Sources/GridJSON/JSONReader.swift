#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Invalid JSON, or a value of another kind than the reader asked for, and where it was found.
public struct JSONReadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Byte offset in the text.
    public let offset: Int
    public let reason: String

    public init(offset: Int, _ reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// A pull reader over JSON text: the caller walks the document it expects (`readObject`,
/// `readString`, …) and skips what it does not need. No tree and no `Codable` machinery, so a
/// worker reads the dozen fields it uses from an event in a few microseconds (Foundation's
/// `JSONDecoder` costs ten times that; docs/benchmarks.md, run I). The bytes are only borrowed:
/// a reader lives inside ``read(_:_:)`` and must not escape it.
public struct JSONReader {
    public static let maximumDepth = 64

    /// The document being read (borrowed; see the type's documentation).
    public let bytes: UnsafeBufferPointer<UInt8>
    /// The next byte to read (a scanner built on the reader, such as the bus's envelope check,
    /// moves it past what it takes itself).
    public var index = 0
    var depth = 0

    /// A reader over borrowed bytes, for scanners that walk a document token by token (prefer
    /// ``read(_:_:)``, which checks that nothing follows the document).
    public init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Reads one JSON document with `body`; anything but whitespace after it is an error.
    public static func read<T>(_ bytes: [UInt8], _ body: (inout JSONReader) throws -> T) throws -> T {
        try bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(bytes: buffer)
            reader.skipWhitespace()
            let value = try body(&reader)
            reader.skipWhitespace()
            guard reader.index == buffer.count else { throw reader.error("unexpected bytes after the value") }
            return value
        }
    }

    public func error(_ reason: String) -> JSONReadError { JSONReadError(offset: index, reason) }

    // MARK: Containers

    /// Reads an object, calling `member` with each name; `member` must read or skip the value.
    public mutating func readObject(_ member: (String, inout JSONReader) throws -> Void) throws {
        guard peek() == UInt8(ascii: "{") else { throw error("expected an object") }
        try enter()
        index += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let name = decode(try readRawString())
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after \"\(name.prefix(40))\"") }
            index += 1
            skipWhitespace()
            try member(name, &self)
            skipWhitespace()
            if peek() == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if peek() == UInt8(ascii: "}") {
                index += 1
                depth -= 1
                return
            }
            throw error("expected ',' or '}' after member \"\(name.prefix(40))\"")
        }
    }

    /// Reads an array, calling `element` for each element; `element` must read or skip it.
    public mutating func readArray(_ element: (inout JSONReader) throws -> Void) throws {
        guard peek() == UInt8(ascii: "[") else { throw error("expected an array") }
        try enter()
        index += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            try element(&self)
            skipWhitespace()
            if peek() == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if peek() == UInt8(ascii: "]") {
                index += 1
                depth -= 1
                return
            }
            throw error("expected ',' or ']'")
        }
    }

    private mutating func enter() throws(JSONReadError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth)") }
    }

    // MARK: Values

    /// Consumes `null` if it is next.
    public mutating func readNull() -> Bool {
        guard peek() == UInt8(ascii: "n") else { return false }
        do { try expectLiteral("null") } catch { return false }
        return true
    }

    public mutating func readString() throws(JSONReadError) -> String {
        guard peek() == UInt8(ascii: "\"") else { throw error("expected a string") }
        return decode(try readRawString())
    }

    /// A string, or nil for `null`.
    public mutating func readOptionalString() throws(JSONReadError) -> String? { readNull() ? nil : try readString() }

    public mutating func readBool() throws(JSONReadError) -> Bool {
        switch peek() {
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return true
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return false
        default: throw error("expected true or false")
        }
    }

    public mutating func readOptionalBool() throws(JSONReadError) -> Bool? { readNull() ? nil : try readBool() }

    /// An integer (a number with a fraction or an exponent, or out of range, is an error).
    public mutating func readInt() throws(JSONReadError) -> Int {
        let start = index
        try skipNumber()
        guard let value = Int(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)) else {
            index = start
            throw error("expected an integer")
        }
        return value
    }

    public mutating func readOptionalInt() throws(JSONReadError) -> Int? { readNull() ? nil : try readInt() }

    /// An RFC 3339 time in a string (``RFC3339/parse(_:)``).
    public mutating func readDate() throws(JSONReadError) -> Date {
        let start = index
        let text = try readString()
        guard let date = RFC3339.parse(text) else {
            index = start
            throw error("'\(text.prefix(40))' is not an RFC 3339 time")
        }
        return date
    }

    public mutating func readOptionalDate() throws(JSONReadError) -> Date? { readNull() ? nil : try readDate() }

    /// A value of a string enumeration by its raw value, or nil for `null`.
    public mutating func readOptional<Value: RawRepresentable>(_ type: Value.Type) throws(JSONReadError) -> Value? where Value.RawValue == String {
        let start = index
        guard let text = try readOptionalString() else { return nil }
        guard let value = Value(rawValue: text) else {
            index = start
            throw error("'\(text.prefix(40))' is not a \(Value.self)")
        }
        return value
    }

    /// A string array, or nil for `null`.
    public mutating func readOptionalStrings() throws -> [String]? {
        if readNull() { return nil }
        var values: [String] = []
        try readArray { values.append(try $0.readString()) }
        return values
    }

    /// Any value, as a ``JSONValue`` (an integer literal that fits 64 bits is `.integer`).
    public mutating func readValue() throws -> JSONValue {
        switch peek() {
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "{"):
            var object: [String: JSONValue] = [:]
            try readObject { name, reader in object[name] = try reader.readValue() }
            return .object(object)
        case UInt8(ascii: "["):
            var array: [JSONValue] = []
            try readArray { array.append(try $0.readValue()) }
            return .array(array)
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool(try readBool())
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        default:
            let start = index
            try skipNumber()
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if let integer = Int64(text) { return .integer(integer) }
            guard let number = Double(text) else {
                index = start
                throw error("expected a number")
            }
            return .number(number)
        }
    }

    /// Checks and skips one value of any kind.
    public mutating func skipValue() throws(JSONReadError) {
        guard depth < Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth)") }
        guard let byte = peek() else { throw error("expected a value") }
        switch byte {
        case UInt8(ascii: "\""): _ = try readRawString()  // checked, never turned into a String
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            depth += 1
            index += 1
            skipWhitespace()
            if peek() == close {
                index += 1
                depth -= 1
                return
            }
            while true {
                skipWhitespace()
                if close == UInt8(ascii: "}") {
                    guard peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
                    _ = try readRawString()
                    skipWhitespace()
                    guard peek() == UInt8(ascii: ":") else { throw error("expected ':'") }
                    index += 1
                    skipWhitespace()
                }
                try skipValue()
                skipWhitespace()
                if peek() == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if peek() == close {
                    index += 1
                    depth -= 1
                    return
                }
                throw error(close == UInt8(ascii: "}") ? "expected ',' or '}'" : "expected ',' or ']'")
            }
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        default: try skipNumber()
        }
    }

    // MARK: Tokens

    public func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    public mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// Checks a JSON string at `index` (at the opening quote) and returns where its content lies.
    public mutating func readRawString() throws(JSONReadError) -> (range: Range<Int>, hasEscapes: Bool) {
        index += 1
        let start = index
        var hasEscapes = false
        var ascii = true
        while true {
            guard index < bytes.count else { throw error("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw error("control character in a string") }
            if byte >= 0x80 { ascii = false }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                index += 1
                guard index < bytes.count else { throw error("unterminated escape") }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    let unit = try readHexEscape()
                    // Surrogates must come in pairs: a lone one is not a character, and Foundation's
                    // decoder (every Swift consumer) refuses it.
                    if (0xDC00...0xDFFF).contains(unit) { throw error("lone low surrogate \\u\(String(unit, radix: 16))") }
                    if (0xD800...0xDBFF).contains(unit) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error("high surrogate not followed by a low one")
                        }
                        index += 1
                        let low = try readHexEscape()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("high surrogate not followed by a low one") }
                    }
                default: throw error("bad escape")
                }
                continue
            }
            index += 1
        }
        let range = start..<index
        index += 1
        if !ascii {
            guard String(validating: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) != nil else {
                throw error("string is not valid UTF-8")
            }
        }
        return (range, hasEscapes)
    }

    /// The text of a string checked by ``readRawString()``.
    public func decode(_ raw: (range: Range<Int>, hasEscapes: Bool)) -> String {
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[raw.range]), as: UTF8.self)
        return raw.hasEscapes ? Self.unescape(text) : text
    }

    /// Reads `uXXXX` at `index` (just after the backslash) and returns the code unit.
    mutating func readHexEscape() throws(JSONReadError) -> UInt16 {
        guard index + 4 < bytes.count, (1...4).allSatisfy({ Self.isHexDigit(bytes[index + $0]) }) else { throw error("bad \\u escape") }
        let unit = (1...4).reduce(UInt16(0)) { value, offset in
            let byte = bytes[index + offset]
            let digit = Self.isDigit(byte) ? byte - 0x30 : (byte | 0x20) - 0x61 + 10
            return value << 4 | UInt16(digit)
        }
        index += 5
        return unit
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONReadError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count,
            UnsafeBufferPointer(start: literal.utf8Start, count: count).elementsEqual(bytes[index..<index + count])
        else { throw error("expected \(literal)") }
        index += count
    }

    mutating func skipNumber() throws(JSONReadError) {
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), Self.isDigit(first) else { throw error("expected a value") }
        index += 1
        if first != UInt8(ascii: "0") { while let byte = peek(), Self.isDigit(byte) { index += 1 } }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let byte = peek(), Self.isDigit(byte) else { throw error("expected digits after '.'") }
            while let byte = peek(), Self.isDigit(byte) { index += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard let byte = peek(), Self.isDigit(byte) else { throw error("expected exponent digits") }
            while let byte = peek(), Self.isDigit(byte) { index += 1 }
        }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isHexDigit(_ byte: UInt8) -> Bool { isDigit(byte) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66) }

    /// Decodes the escapes of an already-checked JSON string.
    static func unescape(_ text: String) -> String {
        var output = String.UnicodeScalarView()
        var scalars = Array(text.unicodeScalars)[...]
        var pendingHigh: UInt32?
        while let scalar = scalars.popFirst() {
            guard scalar == "\\", let next = scalars.popFirst() else {
                output.append(scalar)
                continue
            }
            switch next {
            case "b": output.append("\u{08}")
            case "f": output.append("\u{0C}")
            case "n": output.append("\n")
            case "r": output.append("\r")
            case "t": output.append("\t")
            case "u":
                let hex = String(String.UnicodeScalarView(scalars.prefix(4)))
                scalars = scalars.dropFirst(4)
                let value = UInt32(hex, radix: 16) ?? 0xFFFD
                if (0xD800...0xDBFF).contains(value) {
                    pendingHigh = value
                    continue
                }
                if (0xDC00...0xDFFF).contains(value), let high = pendingHigh {
                    pendingHigh = nil
                    output.append(Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00)) ?? "\u{FFFD}")
                    continue
                }
                output.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            default: output.append(next)
            }
        }
        return String(output)
    }
}
