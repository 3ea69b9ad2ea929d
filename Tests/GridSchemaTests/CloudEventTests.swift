import Foundation
import GridJSON
import GridSchema
import Testing

@Suite struct CloudEventTests {
    @Test func payloadsRoundTripThroughTheEnvelope() throws {
        let event = try CloudEvent(source: "grid-intake", payload: IncidentReported.example, subject: "inc-0001", grid: "G-01-01-01")
        try event.validate()
        let bytes = try event.jsonBytes()
        let scanned = try EnvelopeScanner.scan(bytes)  // what the bus will see
        #expect(scanned.type == .incidentReported)
        #expect(scanned.grid == "G-01-01-01")
        let decoded = try CloudEvent.decode(bytes)
        #expect(decoded == event)
        #expect(try decoded.payload(as: IncidentReported.self) == IncidentReported.example)
        #expect(decoded.dataschema == IncidentReported.schemaURI)
    }

    @Test func everyRegisteredTypeRoundTripsItsExamples() throws {
        for type in EventType.allCases {
            for example in [type.payloadType.example, type.payloadType.minimalExample] as [any EventPayload] {
                #expect(try roundTrips(example), "\(type.rawValue)")
            }
        }
    }

    private func roundTrips<Payload: EventPayload>(_ example: Payload) throws -> Bool {
        let event = try CloudEvent(source: "test", payload: example)
        return try CloudEvent.decode(try event.jsonBytes()).payload(as: Payload.self) == example
    }

    @Test func extensionAttributesArePreserved() throws {
        let text = #"{"specversion":"1.0","id":"1","source":"s","type":"incident.closed","gridbusseq":9,"traceparent":"00-ab","priority2":3}"#
        let event = try CloudEvent.decode(Array(text.utf8))
        #expect(event.sequence == 9)
        #expect(event.extensions["traceparent"] == .string("00-ab"))
        #expect(event.extensions["priority2"] == .integer(3))
        let again = try CloudEvent.decode(try event.jsonBytes())
        #expect(again == event)
    }

    @Test func aNewerSchemaVersionIsRefusedWithAClearError() throws {
        var event = try CloudEvent(source: "s", payload: IncidentClosed.minimalExample)
        guard case .object(var data)? = event.data else {
            Issue.record("no data")
            return
        }
        data["schemaVersion"] = .integer(7)
        event.data = .object(data)
        let error = #expect(throws: PayloadError.self) { try event.payload(as: IncidentClosed.self) }
        #expect(error == .unsupportedSchemaVersion(type: "incident.closed", found: 7, supported: 1))
        #expect(error?.description.contains("schemaVersion 7 is not supported") == true)
    }

    @Test func payloadErrorsNameTheField() throws {
        let text =
            #"{"specversion":"1.0","id":"1","source":"s","type":"incident.verified","data":{"schemaVersion":1,"incidentId":"i","by":"m","passed":"yes"}}"#
        let event = try CloudEvent.decode(Array(text.utf8))
        let error = #expect(throws: PayloadError.self) { try event.payload(as: IncidentVerified.self) }
        #expect(error?.description.contains("data.passed") == true)
        #expect(throws: PayloadError.wrongType(expected: "incident.closed", found: "incident.verified")) {
            try event.payload(as: IncidentClosed.self)
        }
        let noVersion = try CloudEvent.decode(Array(#"{"specversion":"1.0","id":"1","source":"s","type":"incident.closed","data":{}}"#.utf8))
        #expect(throws: PayloadError.missingSchemaVersion(type: "incident.closed")) { try noVersion.payload(as: IncidentClosed.self) }
    }

    @Test func validateAppliesTheDaemonsRules() {
        var event = CloudEvent(source: "s", type: "incident.reported")
        #expect(throws: Never.self) { try event.validate() }
        event.type = "incident.unknown"
        #expect(throws: EnvelopeError.self) { try event.validate() }
        event = CloudEvent(source: "s", type: "incident.reported", grid: "bad/grid")
        #expect((try? event.validate()) == nil)
    }

    @Test func rfc3339AcceptsOffsetsAndFractions() throws {
        let utc = try #require(RFC3339.parse("2026-11-27T02:00:00Z"))
        #expect(RFC3339.parse("2026-11-27T10:00:00+08:00") == utc)
        #expect(RFC3339.parse("2026-11-27T02:00:00.500Z") == utc.addingTimeInterval(0.5))
        #expect(RFC3339.parse("27/11/2026") == nil)
        #expect(RFC3339.parse(RFC3339.format(utc)) == utc)
    }
}

@Suite struct TopicTests {
    @Test func layoutIsTypeThenGrid() {
        #expect(Topic(type: .incidentDispatched, grid: "G-7").description == "incident.dispatched/G-7")
        #expect(Topic(type: .busHeartbeat, grid: nil).description == "bus.heartbeat/-")
    }

    @Test func prefixesSelectOneTypeOrOneGrid() {
        let topic = Topic(type: .incidentDispatched, grid: "G-7").bytes
        #expect(Topic.matches(topic, anyOf: [Array(Topic.prefix(forType: .incidentDispatched).utf8)]))
        #expect(!Topic.matches(topic, anyOf: [Array(Topic.prefix(forType: .incidentReported).utf8)]))
        let gridPrefixes = Topic.prefixes(forGrid: "G-7").map { Array($0.utf8) }
        #expect(gridPrefixes.count == EventType.allCases.count)
        #expect(Topic.matches(topic, anyOf: gridPrefixes))
        #expect(!Topic.matches(Topic(type: .incidentDispatched, grid: "G-8").bytes, anyOf: gridPrefixes))
        #expect(Topic.matches(topic, anyOf: [[]]))  // the empty prefix is everything
        #expect(!Topic.matches(topic, anyOf: []))
    }

    @Test func eventTypesAreUniqueAndNamedInOnePlace() {
        #expect(Set(EventType.allCases.map(\.rawValue)).count == EventType.allCases.count)
        for type in EventType.allCases {
            #expect(EventType.lookup(Array(type.rawValue.utf8)) == type)
            #expect(type.payloadType.eventType == type)
        }
    }
}
