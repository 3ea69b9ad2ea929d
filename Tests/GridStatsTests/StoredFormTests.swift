import Foundation
import GridJSON
import GridSchema
import Testing

@testable import GridStats

/// The statistics read events and store case records with ``JSONReader`` and ``JSONObjectWriter``
/// instead of `Codable`: the stored form must stay what `JSONEncoder` wrote, and bad input must say
/// what is wrong and where.
@Suite struct StoredFormTests {
    /// A record as `JSONEncoder` (sorted keys, nil left out) wrote it before, with a held step.
    static let encodedByCodable =
        #"{"applied":["inc-1-r","inc-1-1"],"category":"road","escalations":0,"firstAssignees":["m-1","m-2"],"grid":"G-01-01-01","#
        + #""held":[{"data":{"incidentId":"inc-1","onTime":true,"points":{"m-1":3}},"grid":"G-01-01-01","id":"inc-1-3","source":"grid-dispatcher","#
        + #""subject":"inc-1","time":"2026-11-27T03:00:00.250Z","type":"incident.closed"}],"id":"inc-1","overdue":false,"priority":"urgent","#
        + #""registeredAt":"2026-11-27T02:00:00.000Z","reopened":false,"reportedAt":"2026-11-27T01:59:00.000Z","returns":1,"reworked":true,"#
        + #""state":"registered","step":1}"#

    @Test func readsARecordWrittenByJSONEncoderAndWritesItBackTheSame() throws {
        let record = try CaseRecord(json: Array(Self.encodedByCodable.utf8))
        #expect(record.id == "inc-1")
        #expect(record.priority == .urgent)
        #expect(record.reportedAt == Date(timeIntervalSince1970: 1_795_744_740))
        #expect(record.firstAssignees == ["m-1", "m-2"])
        #expect(record.returns == 1 && record.reworked && record.step == 1)
        let held = try #require(record.held?.first)
        #expect(held.id == "inc-1-3" && held.type == "incident.closed" && held.step == 3)
        #expect(held.data.points == ["m-1": 3] && held.data.onTime == true)
        #expect(held.time == Date(timeIntervalSince1970: 1_795_748_400.25))
        // Written again and read back: the same record, and the same members as JSONEncoder wrote.
        let written = record.json
        #expect(try CaseRecord(json: written) == record)
        let original = try #require(try JSONSerialization.jsonObject(with: Data(Self.encodedByCodable.utf8)) as? NSDictionary)
        let rewritten = try #require(try JSONSerialization.jsonObject(with: Data(written)) as? NSDictionary)
        #expect(rewritten == original)
    }

    @Test func aStringWithQuotesAndControlCharactersSurvives() throws {
        var record = CaseRecord(id: "inc-\"2\"\n\\é😀\u{01}")
        record.category = "a/b"
        #expect(try CaseRecord(json: record.json) == record)
        #expect(try JSONSerialization.jsonObject(with: Data(record.json)) is NSDictionary)
    }

    /// Events are read through their typed payloads: one that does not read as its type says is
    /// refused, saying what is wrong.
    @Test func anEventWithAFieldOfTheWrongTypeIsRefusedSayingWhere() throws {
        let event =
            #"{"specversion":"1.0","id":"e-1","source":"grid-dispatcher","type":"incident.registered","data":{"schemaVersion":1,"incidentId":"inc-1","category":"E-01-02","grid":"G-1","priority":"normal","deadline":5}}"#
        func refusal(_ text: String) -> String {
            do {
                _ = try StatsEvent.decode(Array(text.utf8))
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(refusal(event).contains("deadline"), "\(refusal(event))")
        #expect(refusal(event.replacingOccurrences(of: "5}", with: "\"5\"}")).contains("deadline"))
        #expect(refusal(event.replacingOccurrences(of: "\"normal\"", with: "\"high\"")).contains("priority"))
        #expect(refusal(event.replacingOccurrences(of: "incident.registered", with: "incident.unheard-of")).contains("incident.unheard-of"))
        #expect(refusal(#"{"specversion":"1.0","id":"e-1","type":"incident.reported","data":{}}"#).contains("'source'"))
        #expect(refusal("[1]").contains("expected an object"))
        let fine = try StatsEvent.decode(Array(event.replacingOccurrences(of: "5}", with: "\"2026-11-27T12:00:00Z\"}").utf8))
        #expect(fine.data.incidentId == "inc-1" && fine.data.grid == "G-1" && fine.data.priority == .normal && fine.data.deadline != nil)
    }
}
