#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// GridBus's JSON format with Foundation's coders: RFC 3339 times (fractional seconds accepted),
/// sorted keys. The programs use ``JSONTreeEncoder`` and ``JSONTreeDecoder``, which write and read
/// this format at a fraction of the cost; these are the reference the tree coders are held to (a
/// differential test over every event type) and the baseline `gridbench r` times them against.
public enum GridJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.format(date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an RFC 3339 time")
            }
            return date
        }
        return decoder
    }
}
