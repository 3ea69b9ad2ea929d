import Foundation
import GridJSON
import GridSchema
import Testing

@Suite struct JSONReaderTests {
    struct Read: Equatable {
        var id: String?
        var count: Int?
        var ok: Bool?
        var tags: [String]?
        var when: Date?
        var nested: String?
    }

    static func read(_ text: String) throws -> Read {
        try JSONReader.read(Array(text.utf8)) { reader in
            var result = Read()
            try reader.readObject { name, reader in
                switch name {
                case "id": result.id = try reader.readOptionalString()
                case "count": result.count = try reader.readOptionalInt()
                case "ok": result.ok = try reader.readOptionalBool()
                case "tags": result.tags = try reader.readOptionalStrings()
                case "when": result.when = try reader.readOptionalDate()
                case "inner":
                    try reader.readObject { name, reader in
                        if name == "x" { result.nested = try reader.readString() } else { try reader.skipValue() }
                    }
                default: try reader.skipValue()
                }
            }
            return result
        }
    }

    @Test func readsTheFieldsAskedForAndSkipsTheRest() throws {
        let text =
            #" {"skip":{"a":[1,-2.5e3,true,null,{"b":"c"}]},"id":"a\"b\u00e9\ud83d\ude00","count":-42,"ok":false,"#
            + #""tags":["x","y"],"when":"2026-11-27T10:00:00.5+08:00","inner":{"y":[],"x":"z"},"none":null} "#
        let result = try Self.read(text)
        #expect(result.id == "a\"bé😀")
        #expect(result.count == -42)
        #expect(result.ok == false)
        #expect(result.tags == ["x", "y"])
        #expect(result.when == Date(timeIntervalSince1970: 1_795_744_800.5))
        #expect(result.nested == "z")
        #expect(try Self.read(#"{"id":null,"count":null}"#) == Read())
    }

    @Test func saysWhatWasWrongAndWhere() {
        func failure(_ text: String) -> JSONReadError? {
            do {
                _ = try Self.read(text)
                return nil
            } catch { return error as? JSONReadError }
        }
        #expect(failure(#"{"id":5}"#) == JSONReadError(offset: 6, "expected a string"))
        #expect(failure(#"{"count":1.5}"#) == JSONReadError(offset: 9, "expected an integer"))
        #expect(failure(#"{"ok":"yes"}"#) == JSONReadError(offset: 6, "expected true or false"))
        #expect(failure(#"{"when":"yesterday"}"#) == JSONReadError(offset: 8, "'yesterday' is not an RFC 3339 time"))
        #expect(failure(#"{"id":"a"} x"#) == JSONReadError(offset: 11, "unexpected bytes after the value"))
        #expect(failure(#"{"id":"a""#)?.reason == "expected ',' or '}' after member \"id\"")
        #expect(failure(#"{"id":"\ud800"}"#)?.reason == "high surrogate not followed by a low one")
        #expect(failure(#"[]"#) == JSONReadError(offset: 0, "expected an object"))
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        #expect(failure(#"{"skip":\#(deep)}"#)?.reason == "nested deeper than 64")
        #expect(failure(#"{"skip":\#(String(repeating: "[", count: 63) + String(repeating: "]", count: 63))}"#) == nil)
    }
}

@Suite struct CloudEventReadingTests {
    @Test func readsEveryAttributeAndKeepsExtensionsAsTheyAre() throws {
        let text =
            #"{"specversion":"1.0","id":"e-1","source":"s","type":"incident.reported","time":"2026-11-27T10:00:00Z","#
            + #""subject":"inc-1","datacontenttype":"application/json","grid":"G-1","gridbusseq":42,"x":[1,2.5,null,{"a":false}],"#
            + #""data":{"schemaVersion":1,"big":18446744073709551616,"text":"网格\n"}}"#
        let event = try CloudEvent.decode(Array(text.utf8))
        #expect(event.id == "e-1" && event.source == "s" && event.type == "incident.reported" && event.subject == "inc-1")
        #expect(event.time == "2026-11-27T10:00:00Z" && event.dataschema == nil)
        #expect(event.grid == "G-1" && event.sequence == 42)
        #expect(event.extensions["x"] == .array([.integer(1), .number(2.5), .null, .object(["a": .bool(false)])]))
        #expect(event.data == .object(["schemaVersion": .integer(1), "big": .number(18_446_744_073_709_551_616), "text": .string("网格\n")]))
        // The same event as Foundation reads it, and written back to the same event.
        #expect(try JSONDecoder().decode(CloudEvent.self, from: Data(text.utf8)) == event)
        #expect(try CloudEvent.decode(event.jsonBytes()) == event)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(JSONObjectWriter.bytes(of: event.data!))) == event.data)
    }

    @Test func saysWhichAttributeIsMissingOrWronglyTyped() {
        #expect(throws: JSONReadError(offset: 0, "an event needs 'specversion', 'type'")) {
            _ = try CloudEvent.decode(Array(#"{"id":"e","source":"s"}"#.utf8))
        }
        #expect(throws: JSONReadError(offset: 6, "expected a string")) { _ = try CloudEvent.decode(Array(#"{"id":7}"#.utf8)) }
    }
}

@Suite struct RFC3339Tests {
    @Test func formatParseFormatIsStable() throws {
        for _ in 0..<10_000 {
            let date = Date(timeIntervalSince1970: Double.random(in: 1_700_000_000...1_900_000_000))
            let text = RFC3339.format(date)
            #expect(RFC3339.format(try #require(RFC3339.parse(text))) == text)
        }
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_795_000_000.7006)) == "2026-11-18T11:06:40.701Z")
    }

    @Test func formatsAsFoundationDoesToTheMillisecond() {
        var random = SystemRandomNumberGenerator()
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var samples: [Double] = [
            0, -0.001, -86_400, 951_782_400, 4_102_444_799.999, 1_796_176_800.0004999, 1_796_176_800.7015, -1_880_680_655.6924999,
        ]
        samples += (0..<2000).map { _ in Double.random(in: -2_000_000_000...4_000_000_000, using: &random) }
        for seconds in samples {
            let date = Date(timeIntervalSince1970: seconds)
            // From the date, not from `seconds`: a Date keeps its time since 2001, and near a half
            // millisecond the round trip through it decides which way the millisecond rounds.
            let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
            let expected = Date(timeIntervalSince1970: (milliseconds + 0.25) / 1000).formatted(style)
            #expect(RFC3339.format(date) == expected, "\(seconds)")
        }
    }

    @Test func parsesAsFoundationDoes() throws {
        var random = SystemRandomNumberGenerator()
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for _ in 0..<2000 {
            let date = Date(timeIntervalSince1970: Double(Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &random)) / 1000)
            let text = RFC3339.format(date)
            let parsed = try #require(RFC3339.parse(text))
            #expect(abs(parsed.timeIntervalSince1970 - date.timeIntervalSince1970) < 1e-6, "\(text)")
            #expect(RFC3339.format(parsed) == text)
            let zoned = text.replacingOccurrences(of: "Z", with: "+08:00")
            let foundation = try #require(try? style.parse(zoned))
            #expect(abs(try #require(RFC3339.parse(zoned)).timeIntervalSince(foundation)) < 1e-6, "\(zoned)")
        }
        #expect(RFC3339.parse("2024-02-29T23:59:59-05:30") == Date(timeIntervalSince1970: 1_709_270_999))
        #expect(RFC3339.parse("2026-11-27T10:00:00.123456789Z").map { abs($0.timeIntervalSince1970 - 1_795_773_600.123456789) < 1e-6 } == true)
        for invalid in ["2026-13-01T00:00:00Z", "2026-11-27 10:00:00Z", "2026-11-27T10:00:00+25:00", "2026-11-27T10:00:00", "yesterday", ""] {
            #expect(RFC3339.parse(invalid) == nil, "\(invalid)")
        }
    }
}
