/// What the daemon needs to know of an event, read in one pass over the publisher's bytes.
public struct ScannedEnvelope: Sendable, Hashable {
    public let id: String
    public let source: String
    public let type: EventType
    public let grid: String?
    /// Index just after the opening `{`, where the bus splices its sequence attribute.
    public let bodyStart: Int

    public var topic: Topic { Topic(type: type, grid: grid) }
}

/// Checks a CloudEvent in JSON format without decoding it into Swift values: the whole text must
/// be valid JSON, the envelope must follow ``EnvelopeRules``, and only the few attributes the bus
/// routes on are copied out. Costs about a microsecond for a 300-byte event (ZEROMQ-NOTES.md:
/// a Codable decode costs 12 µs, more than the whole budget per event).
public enum EnvelopeScanner {
    public static let maximumDepth = 64

    public static func scan(_ bytes: [UInt8]) throws(EnvelopeError) -> ScannedEnvelope {
        let result: Result<ScannedEnvelope, EnvelopeError> = bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(bytes: buffer)
            do throws(EnvelopeError) { return .success(try scanner.scanEnvelope()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Returns the event with `"gridbusseq":<sequence>,` spliced in after the opening brace; nothing else changes.
    public static func splice(sequence: UInt64, into bytes: [UInt8], at bodyStart: Int) -> [UInt8] {
        let attribute = Array("\"\(EnvelopeRules.sequenceAttribute)\":\(sequence),".utf8)
        var result = [UInt8]()
        result.reserveCapacity(bytes.count + attribute.count)
        result.append(contentsOf: bytes[..<bodyStart])
        result.append(contentsOf: attribute)
        result.append(contentsOf: bytes[bodyStart...])
        return result
    }
}

private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func scanEnvelope() throws(EnvelopeError) -> ScannedEnvelope {
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else { throw EnvelopeError(.malformed, "an event is a JSON object: expected '{' at byte \(index)") }
        index += 1
        let bodyStart = index
        // Known attribute names are matched as bytes and tracked in a bit set: no String or
        // hashing per attribute on the hot path. Extension names (rare) go through a Set.
        var seenKnown: UInt16 = 0
        var seenExtensions = Set<String>()
        var specVersion: String?
        var id: String?
        var source: String?
        var type: String?
        var grid: String?
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw malformed("expected an attribute name") }
                let raw = try readRawString()
                let known = raw.hasEscapes ? nil : KnownAttribute.match(bytes, raw.range)
                let name = known?.name ?? decode(raw)
                if let known {
                    guard seenKnown & known.bit == 0 else { throw EnvelopeError(.invalid, attribute: name, "appears twice") }
                    seenKnown |= known.bit
                } else {
                    guard seenExtensions.insert(name).inserted else { throw EnvelopeError(.invalid, attribute: name, "appears twice") }
                }
                skipWhitespace()
                guard peek() == UInt8(ascii: ":") else { throw malformed("expected ':' after \"\(name.prefix(40))\"") }
                index += 1
                skipWhitespace()
                switch known {
                case .specversion: specVersion = try readStringAttribute(name)
                case .id: id = try readStringAttribute(name)
                case .source: source = try readStringAttribute(name)
                case .type: type = try readStringAttribute(name)
                case .time: try EnvelopeRules.checkTime(try readStringAttribute(name))
                case .subject, .dataschema: try EnvelopeRules.checkNonEmpty(try readStringAttribute(name), attribute: name)
                case .datacontenttype: try EnvelopeRules.checkDataContentType(try readStringAttribute(name))
                case .data: try skipValue(depth: 1)
                case .dataBase64: throw EnvelopeError(.invalid, attribute: name, "binary data is not carried; send JSON in 'data'")
                case .grid:
                    let value = try readStringAttribute(name)
                    try EnvelopeRules.checkGrid(value)
                    grid = value
                case nil:
                    try EnvelopeRules.checkExtensionName(name)
                    switch peek() ?? 0 {
                    case UInt8(ascii: "\""), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                        try skipValue(depth: 1)
                    default:
                        throw EnvelopeError(.invalid, attribute: name, "extension attributes are strings, numbers or booleans")
                    }
                }
                skipWhitespace()
                if peek() == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if peek() == UInt8(ascii: "}") {
                    index += 1
                    break
                }
                throw malformed("expected ',' or '}' after attribute \"\(name.prefix(40))\"")
            }
        }
        skipWhitespace()
        guard index == bytes.count else { throw malformed("unexpected bytes after the event object") }

        guard let specVersion else { throw EnvelopeError(.invalid, attribute: "specversion", "is required") }
        try EnvelopeRules.checkSpecVersion(specVersion)
        guard let id else { throw EnvelopeError(.invalid, attribute: "id", "is required") }
        try EnvelopeRules.checkID(id)
        guard let source else { throw EnvelopeError(.invalid, attribute: "source", "is required") }
        try EnvelopeRules.checkSource(source)
        guard let type else { throw EnvelopeError(.invalid, attribute: "type", "is required") }
        let eventType = try EnvelopeRules.checkType(type)
        return ScannedEnvelope(id: id, source: source, type: eventType, grid: grid, bodyStart: bodyStart)
    }

    // MARK: Values

    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    func malformed(_ what: String) -> EnvelopeError { EnvelopeError(.malformed, "invalid JSON at byte \(index): \(what)") }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func readStringAttribute(_ name: String) throws(EnvelopeError) -> String {
        guard peek() == UInt8(ascii: "\"") else { throw EnvelopeError(.invalid, attribute: name, "must be a string") }
        return try readString()
    }

    /// Reads a JSON string at `index` (which is at the opening quote), decoding escapes.
    mutating func readString() throws(EnvelopeError) -> String { decode(try readRawString()) }

    /// Checks a JSON string at `index` (at the opening quote) and returns where its content lies.
    mutating func readRawString() throws(EnvelopeError) -> (range: Range<Int>, hasEscapes: Bool) {
        index += 1
        let start = index
        var hasEscapes = false
        var ascii = true
        while true {
            guard index < bytes.count else { throw malformed("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw malformed("control character in a string") }
            if byte >= 0x80 { ascii = false }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                index += 1
                guard index < bytes.count else { throw malformed("unterminated escape") }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    let unit = try readHexEscape()
                    // Surrogates must come in pairs: a lone one is not a character, and Foundation's
                    // decoder (every Swift consumer) refuses it, so the bus refuses it too.
                    if (0xDC00...0xDFFF).contains(unit) { throw malformed("lone low surrogate \\u\(String(unit, radix: 16))") }
                    if (0xD800...0xDBFF).contains(unit) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw malformed("high surrogate not followed by a low one")
                        }
                        index += 1
                        let low = try readHexEscape()
                        guard (0xDC00...0xDFFF).contains(low) else { throw malformed("high surrogate not followed by a low one") }
                    }
                default: throw malformed("bad escape")
                }
                continue
            }
            index += 1
        }
        let range = start..<index
        index += 1
        if !ascii {
            guard String(validating: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) != nil else {
                throw malformed("string is not valid UTF-8")
            }
        }
        return (range, hasEscapes)
    }

    /// The text of a string checked by ``readRawString()``.
    func decode(_ raw: (range: Range<Int>, hasEscapes: Bool)) -> String {
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[raw.range]), as: UTF8.self)
        return raw.hasEscapes ? unescape(text) : text
    }

    /// Reads `uXXXX` at `index` (just after the backslash) and returns the code unit.
    mutating func readHexEscape() throws(EnvelopeError) -> UInt16 {
        guard index + 4 < bytes.count, (1...4).allSatisfy({ isHexDigit(bytes[index + $0]) }) else { throw malformed("bad \\u escape") }
        let unit = (1...4).reduce(UInt16(0)) { value, offset in
            let byte = bytes[index + offset]
            let digit = isDigit(byte) ? byte - 0x30 : (byte | 0x20) - 0x61 + 10
            return value << 4 | UInt16(digit)
        }
        index += 5
        return unit
    }

    mutating func skipValue(depth: Int) throws(EnvelopeError) {
        guard depth <= EnvelopeScanner.maximumDepth else { throw malformed("nested deeper than \(EnvelopeScanner.maximumDepth)") }
        guard let byte = peek() else { throw malformed("expected a value") }
        switch byte {
        case UInt8(ascii: "\""): _ = try readRawString()  // checked, never turned into a String
        case UInt8(ascii: "{"):
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                index += 1
                return
            }
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw malformed("expected a member name") }
                _ = try readRawString()
                skipWhitespace()
                guard peek() == UInt8(ascii: ":") else { throw malformed("expected ':'") }
                index += 1
                skipWhitespace()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if peek() == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if peek() == UInt8(ascii: "}") {
                    index += 1
                    return
                }
                throw malformed("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                index += 1
                return
            }
            while true {
                skipWhitespace()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if peek() == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if peek() == UInt8(ascii: "]") {
                    index += 1
                    return
                }
                throw malformed("expected ',' or ']'")
            }
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        default: try skipNumber()
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(EnvelopeError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count,
            UnsafeBufferPointer(start: literal.utf8Start, count: count).elementsEqual(bytes[index..<index + count])
        else { throw malformed("expected \(literal)") }
        index += count
    }

    mutating func skipNumber() throws(EnvelopeError) {
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), isDigit(first) else { throw malformed("expected a value") }
        index += 1
        if first != UInt8(ascii: "0") { while let byte = peek(), isDigit(byte) { index += 1 } }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let byte = peek(), isDigit(byte) else { throw malformed("expected digits after '.'") }
            while let byte = peek(), isDigit(byte) { index += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard let byte = peek(), isDigit(byte) else { throw malformed("expected exponent digits") }
            while let byte = peek(), isDigit(byte) { index += 1 }
        }
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    func isHexDigit(_ byte: UInt8) -> Bool { isDigit(byte) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66) }

    /// Decodes the escapes of an already-checked JSON string (rare in envelope attributes).
    func unescape(_ text: String) -> String {
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

/// The attribute names the scanner acts on, matched as bytes. Raw values, not `"\(self)"`: this
/// runs for every attribute of every event, and interpolating an enum goes through reflection.
private enum KnownAttribute: String, CaseIterable {
    case specversion, id, source, type, time, subject, dataschema, datacontenttype, data
    case dataBase64 = "data_base64"
    case grid  // = EnvelopeRules.gridAttribute; EnvelopeScannerTests checks the two agree

    var name: String { rawValue }

    var bit: UInt16 {
        switch self {
        case .specversion: 1 << 0
        case .id: 1 << 1
        case .source: 1 << 2
        case .type: 1 << 3
        case .time: 1 << 4
        case .subject: 1 << 5
        case .dataschema: 1 << 6
        case .datacontenttype: 1 << 7
        case .data: 1 << 8
        case .dataBase64: 1 << 9
        case .grid: 1 << 10
        }
    }

    static let names: [(bytes: [UInt8], attribute: KnownAttribute)] = allCases.map { (Array($0.name.utf8), $0) }

    static func match(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> KnownAttribute? {
        for (name, attribute) in names where name.count == range.count {
            if name.elementsEqual(bytes[range]) { return attribute }
        }
        return nil
    }
}
