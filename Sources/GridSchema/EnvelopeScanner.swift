import GridJSON

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
/// routes on are copied out. Costs about a microsecond for a 300-byte event, where a Codable decode
/// costs 12 µs, more than the daemon's whole budget per event (docs/architecture.md, "Swift and libzmq").
public enum EnvelopeScanner {
    public static let maximumDepth = JSONReader.maximumDepth

    public static func scan(_ bytes: [UInt8]) throws(EnvelopeError) -> ScannedEnvelope {
        let result: Result<ScannedEnvelope, EnvelopeError> = bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(bytes: buffer)
            do throws(EnvelopeError) { return .success(try scanner.scanEnvelope()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Returns the event with `"gridbusseq":<sequence>,` spliced in after the opening brace; nothing else changes.
    public static func splice(sequence: UInt64, into bytes: [UInt8], at bodyStart: Int) -> [UInt8] {
        var result = [UInt8]()
        result.reserveCapacity(splicedCount(sequence: sequence, into: bytes.count))
        appendSpliced(sequence: sequence, into: bytes, at: bodyStart, to: &result)
        return result
    }

    /// The length of `splice`'s result, without building it.
    public static func splicedCount(sequence: UInt64, into count: Int) -> Int {
        count + sequencePrefix.count + decimalDigits(sequence) + 1
    }

    /// Appends what `splice` returns to `output`, with no allocation of its own (the journal writes
    /// it straight into a chunk: a spliced copy per event was a measurable part of its CPU).
    public static func appendSpliced(sequence: UInt64, into bytes: [UInt8], at bodyStart: Int, to output: inout [UInt8]) {
        output.append(contentsOf: bytes[..<bodyStart])
        output.append(contentsOf: sequencePrefix)
        let digits = decimalDigits(sequence)
        let end = output.count + digits
        output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits))
        var rest = sequence
        for index in stride(from: end - 1, through: end - digits, by: -1) {
            output[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        output.append(UInt8(ascii: ","))
        output.append(contentsOf: bytes[bodyStart...])
    }

    private static let sequencePrefix = Array("\"\(EnvelopeRules.sequenceAttribute)\":".utf8)

    private static func decimalDigits(_ value: UInt64) -> Int {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits
    }
}

private struct Scanner {
    /// The JSON primitives; the scanner adds the envelope's rules and its error codes.
    var reader: JSONReader
    var index: Int {
        get { reader.index }
        set { reader.index = newValue }
    }
    var bytes: UnsafeBufferPointer<UInt8> { reader.bytes }

    init(bytes: UnsafeBufferPointer<UInt8>) { reader = JSONReader(bytes: bytes) }

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
                case .data: try skipValue()
                case .dataBase64: throw EnvelopeError(.invalid, attribute: name, "binary data is not carried; send JSON in 'data'")
                case .grid:
                    let value = try readStringAttribute(name)
                    try EnvelopeRules.checkGrid(value)
                    grid = value
                case nil:
                    try EnvelopeRules.checkExtensionName(name)
                    switch peek() ?? 0 {
                    case UInt8(ascii: "\""), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                        try skipValue()
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

    func peek() -> UInt8? { reader.peek() }

    func malformed(_ what: String) -> EnvelopeError { EnvelopeError(.malformed, reader.error(what).description) }

    mutating func skipWhitespace() { reader.skipWhitespace() }

    mutating func readStringAttribute(_ name: String) throws(EnvelopeError) -> String {
        guard peek() == UInt8(ascii: "\"") else { throw EnvelopeError(.invalid, attribute: name, "must be a string") }
        return try readString()
    }

    mutating func readString() throws(EnvelopeError) -> String { decode(try readRawString()) }

    mutating func readRawString() throws(EnvelopeError) -> (range: Range<Int>, hasEscapes: Bool) {
        do { return try reader.readRawString() } catch { throw EnvelopeError(.malformed, error.description) }
    }

    func decode(_ raw: (range: Range<Int>, hasEscapes: Bool)) -> String { reader.decode(raw) }

    /// Checks and skips a value; the envelope's own object is not counted in the depth.
    mutating func skipValue() throws(EnvelopeError) {
        do { try reader.skipValue() } catch { throw EnvelopeError(.malformed, error.description) }
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
