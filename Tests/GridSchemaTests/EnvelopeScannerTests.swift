import Foundation
import GridSchema
import Testing

@Suite struct EnvelopeScannerTests {
    static let valid =
        #"{"specversion":"1.0","id":"e-1","source":"grid-intake","type":"incident.reported","grid":"G-01-02","time":"2026-11-27T10:00:00.123+08:00","data":{"schemaVersion":1,"nested":[1,2.5e3,true,null,"\u00e9\ud83d\ude00"]}}"#

    @Test func acceptsAValidEventAndExtractsWhatTheBusRoutesOn() throws {
        let envelope = try EnvelopeScanner.scan(Array(Self.valid.utf8))
        #expect(envelope.id == "e-1")
        #expect(envelope.source == "grid-intake")
        #expect(envelope.type == .incidentReported)
        #expect(envelope.grid == "G-01-02")
        #expect(envelope.topic.description == "incident.reported/G-01-02")
        #expect(envelope.bodyStart == 1)
    }

    @Test func decodesEscapesInAttributes() throws {
        let event = #"{"specversion":"1.0","id":"a\"b\\c\u0041","source":"s","type":"bus.heartbeat"}"#
        #expect(try EnvelopeScanner.scan(Array(event.utf8)).id == "a\"b\\cA")
    }

    @Test func splicingTheSequenceKeepsTheEventValidAndOtherwiseUnchanged() throws {
        let bytes = Array(("  " + Self.valid).utf8)
        let envelope = try EnvelopeScanner.scan(bytes)
        let spliced = EnvelopeScanner.splice(sequence: 42, into: bytes, at: envelope.bodyStart)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(spliced)) as? [String: Any])
        #expect(object["gridbusseq"] as? Int == 42)
        #expect(object["id"] as? String == "e-1")
        #expect(String(decoding: spliced, as: UTF8.self) == #"  {"gridbusseq":42,"# + Self.valid.dropFirst())
        let decoded = try CloudEvent.decode(spliced)
        #expect(decoded.sequence == 42)
    }

    @Test(arguments: [0, 7, 9, 10, 99, 100, 12_345, 999_999_999, 1_000_000_000, UInt64.max / 10, UInt64.max])
    func theSplicedSequenceIsTheDecimalNumber(_ sequence: UInt64) throws {
        let bytes = Array(#"{"a":1}"#.utf8)
        let spliced = EnvelopeScanner.splice(sequence: sequence, into: bytes, at: 1)
        #expect(String(decoding: spliced, as: UTF8.self) == #"{"gridbusseq":\#(sequence),"a":1}"#)
        #expect(EnvelopeScanner.splicedCount(sequence: sequence, into: bytes.count) == spliced.count)
        // Appended after what a buffer already holds, it leaves that alone.
        var buffer = Array("xyz".utf8)
        EnvelopeScanner.appendSpliced(sequence: sequence, into: bytes, at: 1, to: &buffer)
        #expect(buffer == Array("xyz".utf8) + spliced)
    }

    /// Every refusal names its code and, where there is one, the attribute at fault.
    @Test(arguments: [
        ("", EnvelopeError.Code.malformed, nil as String?),
        ("[]", .malformed, nil),
        ("not json", .malformed, nil),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported""#, .malformed, nil),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported"} trailing"#, .malformed, nil),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","data":{"a":01}}"#, .malformed, nil),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","data":"tab\#there"}"#, .malformed, nil),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","data":"\ude00"}"#, .malformed, nil),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","data":"\ud83dx"}"#, .malformed, nil),
        (#"{"id":"x","source":"s","type":"incident.reported"}"#, .invalid, "specversion"),
        (#"{"specversion":"0.3","id":"x","source":"s","type":"incident.reported"}"#, .invalid, "specversion"),
        (#"{"specversion":"1.0","source":"s","type":"incident.reported"}"#, .invalid, "id"),
        (#"{"specversion":"1.0","id":"","source":"s","type":"incident.reported"}"#, .invalid, "id"),
        (#"{"specversion":"1.0","id":7,"source":"s","type":"incident.reported"}"#, .invalid, "id"),
        (#"{"specversion":"1.0","id":"x","type":"incident.reported"}"#, .invalid, "source"),
        (#"{"specversion":"1.0","id":"x","source":"has space","type":"incident.reported"}"#, .invalid, "source"),
        (#"{"specversion":"1.0","id":"x","source":"s"}"#, .invalid, "type"),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.exploded"}"#, .unknownType, "type"),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","time":"yesterday"}"#, .invalid, "time"),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","grid":"a/b"}"#, .invalid, "grid"),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","grid":"-"}"#, .invalid, "grid"),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","Bad-Name":"v"}"#, .invalid, "Bad-Name"),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","ext":{"a":1}}"#, .invalid, "ext"),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","gridbusseq":5}"#, .invalid, "gridbusseq"),
        (#"{"specversion":"1.0","id":"x","id":"y","source":"s","type":"incident.reported"}"#, .invalid, "id"),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","datacontenttype":"text/xml"}"#, .invalid, "datacontenttype"),
        (#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","data_base64":"AA=="}"#, .invalid, "data_base64"),
    ])
    func refusesWithCodeAndAttribute(text: String, code: EnvelopeError.Code, attribute: String?) {
        let error = #expect(throws: EnvelopeError.self) { try EnvelopeScanner.scan(Array(text.utf8)) }
        #expect(error?.code == code)
        #expect(error?.attribute == attribute)
        #expect(error?.description.isEmpty == false)
    }

    @Test func refusesInvalidUTF8AndDeepNesting() {
        var bytes = Array(#"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","subject":"a"#.utf8)
        bytes += [0xFF, 0xFE] + Array(#""}"#.utf8)
        #expect(throws: EnvelopeError.self) { try EnvelopeScanner.scan(bytes) }
        let deep =
            #"{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","data":"# + String(repeating: "[", count: 100)
            + String(repeating: "]", count: 100) + "}"
        let error = #expect(throws: EnvelopeError.self) { try EnvelopeScanner.scan(Array(deep.utf8)) }
        #expect(error?.code == .malformed)
    }

    /// Differential check against Foundation's parser: mutate a valid event byte by byte; whenever
    /// Foundation rejects the text, the scanner must reject it too (the bus never stores broken JSON).
    @Test func neverAcceptsTextThatIsNotJSON() {
        var generator = SeededGenerator(seed: 2026)
        let original = Array(Self.valid.utf8)
        let alphabet = Array(#"{}[]":,\ 0123456789.eE+-truefalsnul"#.utf8) + [0x00, 0x1F, 0x80, 0xC3]
        var accepted = 0
        for _ in 0..<20_000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = alphabet.randomElement(using: &generator)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(alphabet.randomElement(using: &generator)!, at: index)
                }
            }
            guard (try? EnvelopeScanner.scan(bytes)) != nil else { continue }
            accepted += 1
            #expect((try? JSONSerialization.jsonObject(with: Data(bytes))) != nil, "accepted invalid JSON: \(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(accepted > 100)  // the mutations also produce valid events, so the check above ran
    }
}

/// A small deterministic generator (SplitMix64), so that a failing fuzz case can be reproduced.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct EnvelopeScannerAttributeTests {
    /// The scanner matches attribute names as bytes; the grid attribute's name must be the schema's.
    @Test func theScannerReadsTheGridAttributeByItsSchemaName() throws {
        let event = #"{"specversion":"1.0","id":"a","source":"s","type":"incident.reported","\#(EnvelopeRules.gridAttribute)":"G-9"}"#
        #expect(try EnvelopeScanner.scan(Array(event.utf8)).grid == "G-9")
    }
}
