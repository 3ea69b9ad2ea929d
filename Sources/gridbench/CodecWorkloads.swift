import Foundation
import GridJSON
import GridSchema

/// (r): every event type's full example encoded and decoded by Foundation's coders (GridJSON's)
/// and by the tree coders the workers use; microseconds per value, one pass over all types being
/// one sample.
struct CodecTimes {
    /// Event types timed (each one's full example).
    var types = 0
    var foundationEncode: Double
    var treeEncode: Double
    var foundationDecode: Double
    var treeDecode: Double
}

func measureCodecs(passes: Int) throws -> CodecTimes {
    let encoder = GridJSON.encoder()
    let decoder = GridJSON.decoder()
    var times = CodecTimes(foundationEncode: 0, treeEncode: 0, foundationDecode: 0, treeDecode: 0)
    for type in EventType.allCases {
        try measure(type.payloadType)
    }
    func measure<Payload: EventPayload>(_: Payload.Type) throws {
        let example = Payload.example
        let text = Array(try encoder.encode(example))
        let tree = try JSONValue(parsing: text)
        func time(_ body: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<passes { try body() }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000 / Double(passes)
        }
        // Each as a worker does it: an event's payload from its tree (the old way wrote the tree out
        // and parsed it with JSONDecoder), a record to bytes.
        times.foundationEncode += try time { _ = try encoder.encode(example) }
        times.treeEncode += try time { _ = try JSONTreeEncoder().encode(example) }
        times.foundationDecode += try time { _ = try decoder.decode(Payload.self, from: Data(JSONObjectWriter.bytes(of: tree))) }
        times.treeDecode += try time { _ = try JSONTreeDecoder().decode(Payload.self, from: tree) }
        times.types += 1
    }
    let count = Double(times.types)
    return CodecTimes(
        types: times.types,
        foundationEncode: times.foundationEncode / count,
        treeEncode: times.treeEncode / count,
        foundationDecode: times.foundationDecode / count,
        treeDecode: times.treeDecode / count
    )
}
