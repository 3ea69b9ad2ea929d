import Foundation
import GridJSON
import GridSchema
import Testing

/// JSONTreeEncoder and JSONTreeDecoder stand in for GridJSON's Foundation coders on the workers'
/// hot paths: these tests hold them to Foundation's results, value for value and error for error.
@Suite struct JSONTreeCoderTests {
    static let foundationEncoder = GridJSON.encoder()
    static let foundationDecoder = GridJSON.decoder()

    @Test(arguments: EventType.allCases)
    func everyPayloadEncodesAndDecodesAsFoundationDoes(type: EventType) throws {
        try roundTrip(type.payloadType)
    }

    private func roundTrip<Payload: EventPayload>(_: Payload.Type) throws {
        for example in [Payload.example, Payload.minimalExample] {
            let tree = try JSONTreeEncoder().encode(example)
            let foundation = Array(try Self.foundationEncoder.encode(example))
            // The same value, keys in the same order (sorted), whatever the spelling of fractions.
            #expect(try JSONValue(parsing: tree) == JSONValue(parsing: foundation))
            #expect(keyOrder(tree) == keyOrder(foundation))
            // Each decodes the other's text to a value that encodes the same again.
            let decoded = try JSONTreeDecoder().decode(Payload.self, from: foundation)
            #expect(try JSONTreeEncoder().encode(decoded) == tree)
            let byFoundation = try Self.foundationDecoder.decode(Payload.self, from: Data(tree))
            #expect(try JSONTreeEncoder().encode(byFoundation) == tree)
        }
    }

    /// Each member of every full example left out, set to null and set to a value of the wrong
    /// kind: both decoders accept or refuse alike, with the same error at the same path.
    @Test(arguments: EventType.allCases)
    func brokenPayloadsFailAsWithFoundation(type: EventType) throws {
        try compareBreakages(type.payloadType)
    }

    private func compareBreakages<Payload: EventPayload>(_: Payload.Type) throws {
        guard case .object(let members) = try JSONValue(parsing: JSONTreeEncoder().encode(Payload.example)) else {
            Issue.record("\(Payload.self) did not encode to an object")
            return
        }
        var broken: [JSONValue] = []
        for (name, value) in members {
            var without = members
            without[name] = nil
            broken.append(.object(without))
            broken += [JSONValue.null, .string("x"), .integer(7), .number(2.5), .bool(true), .array([]), .object([:])]
                .filter { $0 != value }
                .map { replacement in
                    var changed = members
                    changed[name] = replacement
                    return .object(changed)
                }
            broken += nestedBreakages(of: value).map { nested in
                var changed = members
                changed[name] = nested
                return .object(changed)
            }
        }
        var refusals = 0
        for value in broken {
            let text = JSONObjectWriter.bytes(of: value)
            let expected = outcome { try Self.foundationDecoder.decode(Payload.self, from: Data(text)) }
            let found = outcome { try JSONTreeDecoder().decode(Payload.self, from: value) }
            if expected == "refused: corrupted at " {
                // A number that does not fit: Foundation names no path; the tree decoder names the member.
                #expect(found.hasPrefix("refused: corrupted at ") && found != expected, "\(String(decoding: text, as: UTF8.self)): \(found)")
            } else {
                #expect(found == expected, "\(String(decoding: text, as: UTF8.self))")
            }
            if expected.hasPrefix("refused") { refusals += 1 }
        }
        #expect(refusals > 0, "no breakage of \(Payload.self) was refused: the comparison proved nothing")
    }

    /// One level further down: a member of a nested object or an array's first item replaced.
    private func nestedBreakages(of value: JSONValue) -> [JSONValue] {
        switch value {
        case .object(let members):
            members.keys.flatMap { name -> [JSONValue] in
                var without = members
                without[name] = nil
                var wrong = members
                wrong[name] = members[name] == .string("x") ? .integer(1) : .string("x")
                return [.object(without), .object(wrong)]
            }
        case .array(let items) where !items.isEmpty:
            [.array([.null] + items.dropFirst()), .array([.bool(false)] + items.dropFirst())]
        default: []
        }
    }

    /// "accepted: <the value re-encoded>" or "refused: <kind> at <path>".
    private func outcome<T: Encodable>(_ decode: () throws -> T) -> String {
        do {
            return "accepted: " + String(decoding: try JSONTreeEncoder().encode(decode()), as: UTF8.self)
        } catch let error as DecodingError {
            func path(_ context: DecodingError.Context) -> String {
                context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            }
            switch error {
            case .keyNotFound(let key, let context): return "refused: \(key.stringValue) missing at \(path(context))"
            case .typeMismatch(let type, let context): return "refused: not \(type) at \(path(context))"
            case .valueNotFound(let type, let context): return "refused: null for \(type) at \(path(context))"
            case .dataCorrupted(let context): return "refused: corrupted at \(path(context))"
            @unknown default: return "refused: \(error)"
            }
        } catch {
            return "refused: \(error)"
        }
    }

    @Test func datesDictionariesOptionalsAndNumbersMatchFoundation() throws {
        struct Record: Codable, Equatable {
            var at: Date
            var counts: [String: Int]
            var ratio: Double
            var note: String?
            var nested: [[String: [Int]]]
            var big: UInt64
            var text: String
        }
        let record = Record(
            at: Date(timeIntervalSince1970: 1_796_176_800.125),
            counts: ["b": 2, "a": 1, "é": 3, "B": 4],
            ratio: 120.15,
            note: nil,
            nested: [["x": [1, 2]], [:]],
            big: UInt64(Int64.max),
            text: "a/b \"q\" \\ \n\t\u{1}中"
        )
        let tree = try JSONTreeEncoder().encode(record)
        let foundation = Array(try Self.foundationEncoder.encode(record))
        #expect(try JSONValue(parsing: tree) == JSONValue(parsing: foundation))
        #expect(keyOrder(tree) == keyOrder(foundation))
        #expect(try JSONTreeDecoder().decode(Record.self, from: tree) == record)
        #expect(try Self.foundationDecoder.decode(Record.self, from: Data(tree)) == record)
        // An integral number is an Int; a fraction, or one out of range, is not.
        #expect(try JSONTreeDecoder().decode(Int.self, from: .number(3)) == 3)
        #expect(throws: DecodingError.self) { try JSONTreeDecoder().decode(Int.self, from: .number(3.5)) }
        #expect(throws: DecodingError.self) { try JSONTreeDecoder().decode(UInt8.self, from: .integer(300)) }
        #expect(throws: DecodingError.self) { try JSONTreeDecoder().decode(Date.self, from: .string("yesterday")) }
        // The documented limit: beyond Int64 a JSONValue holds a Double, not the exact integer.
        #expect(throws: DecodingError.self) { try JSONTreeDecoder().decode(UInt64.self, from: Array("\(UInt64.max)".utf8)) }
    }

    @Test func refusesWhatFoundationRefuses() throws {
        #expect(throws: EncodingError.self) { try JSONTreeEncoder().encode(["x": Double.nan]) }
        #expect(throws: EncodingError.self) { try JSONTreeEncoder().encode([Double.infinity]) }
        // Invalid text is a DecodingError, as with JSONDecoder, with the byte underneath.
        #expect {
            try JSONTreeDecoder().decode([String: Int].self, from: Array("{\"a\": 1,}".utf8))
        } throws: { error in
            guard case DecodingError.dataCorrupted(let context) = error else { return false }
            return (context.underlyingError as? JSONReadError)?.offset == 8
        }
    }

    /// The member names of every object in document order, to compare key order across encoders.
    private func keyOrder(_ bytes: [UInt8]) -> [String] {
        var names: [String] = []
        func walk(_ reader: inout JSONReader) throws {
            switch bytes[reader.index] {
            case UInt8(ascii: "{"):
                try reader.readObject { name, reader in
                    names.append(name)
                    try walk(&reader)
                }
            case UInt8(ascii: "["): try reader.readArray { try walk(&$0) }
            default: try reader.skipValue()
            }
        }
        do { try JSONReader.read(bytes) { try walk(&$0) } } catch { Issue.record("\(error)") }
        return names
    }
}
