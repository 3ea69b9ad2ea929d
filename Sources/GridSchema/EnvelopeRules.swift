import GridJSON

/// The envelope rules, in one place for the daemon's byte scanner and for ``CloudEvent/validate()``.
public enum EnvelopeRules {
    public static let specVersion = "1.0"
    /// The extension attribute the daemon splices into every event it journals.
    public static let sequenceAttribute = "gridbusseq"
    /// The extension attribute naming the grid an event concerns; it becomes part of the topic.
    public static let gridAttribute = "grid"
    public static let maximumIDLength = 256
    public static let maximumSourceLength = 1024
    public static let maximumGridLength = 64

    /// CloudEvents 1.0 context attributes; anything else at top level is an extension.
    public static let contextAttributes: Set<String> = [
        "specversion", "id", "source", "type", "time", "subject", "datacontenttype", "dataschema", "data", "data_base64",
    ]

    public static func checkSpecVersion(_ value: String) throws(EnvelopeError) {
        guard value == specVersion else { throw EnvelopeError(.invalid, attribute: "specversion", "must be \"1.0\", got \"\(value.prefix(20))\"") }
    }

    public static func checkID(_ value: String) throws(EnvelopeError) {
        guard !value.isEmpty else { throw EnvelopeError(.invalid, attribute: "id", "must not be empty") }
        guard value.utf8.count <= maximumIDLength else { throw EnvelopeError(.invalid, attribute: "id", "longer than \(maximumIDLength) bytes") }
    }

    public static func checkSource(_ value: String) throws(EnvelopeError) {
        guard !value.isEmpty else { throw EnvelopeError(.invalid, attribute: "source", "must not be empty") }
        guard value.utf8.count <= maximumSourceLength else {
            throw EnvelopeError(.invalid, attribute: "source", "longer than \(maximumSourceLength) bytes")
        }
        guard !value.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw EnvelopeError(.invalid, attribute: "source", "must be a URI-reference (no spaces or control characters)")
        }
    }

    public static func checkType(_ value: String) throws(EnvelopeError) -> EventType {
        guard !value.isEmpty else { throw EnvelopeError(.invalid, attribute: "type", "must not be empty") }
        guard let type = EventType(rawValue: value) else {
            throw EnvelopeError(.unknownType, attribute: "type", "'\(value.prefix(80))' is not a registered event type")
        }
        return type
    }

    public static func checkTime(_ value: String) throws(EnvelopeError) {
        guard RFC3339.parse(value) != nil else {
            throw EnvelopeError(.invalid, attribute: "time", "'\(value.prefix(40))' is not an RFC 3339 timestamp")
        }
    }

    public static func checkNonEmpty(_ value: String, attribute: String) throws(EnvelopeError) {
        guard !value.isEmpty else { throw EnvelopeError(.invalid, attribute: attribute, "must not be empty when present") }
    }

    public static func checkDataContentType(_ value: String) throws(EnvelopeError) {
        guard value.hasPrefix("application/json") else {
            throw EnvelopeError(
                .invalid,
                attribute: "datacontenttype",
                "GridBus carries JSON data: expected application/json, got '\(value.prefix(60))'"
            )
        }
    }

    /// Grid ids become part of a topic: letters, digits and `. _ : -` only, so no `/`.
    public static func checkGrid(_ value: String) throws(EnvelopeError) {
        guard !value.isEmpty, value.utf8.count <= maximumGridLength else {
            throw EnvelopeError(.invalid, attribute: gridAttribute, "must be 1 to \(maximumGridLength) characters")
        }
        guard
            value.utf8.allSatisfy({
                isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-")
            })
        else {
            throw EnvelopeError(.invalid, attribute: gridAttribute, "may hold only letters, digits and . _ : -")
        }
        guard value != Topic.noGrid else { throw EnvelopeError(.invalid, attribute: gridAttribute, "'-' is reserved for events without a grid") }
    }

    /// CloudEvents extension names: lower-case letters and digits, at most 20.
    public static func checkExtensionName(_ name: String) throws(EnvelopeError) {
        guard !name.isEmpty, name.utf8.count <= 20,
            name.utf8.allSatisfy({ ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) })
        else { throw EnvelopeError(.invalid, attribute: name, "extension attribute names are 1–20 lower-case letters or digits") }
        guard name != sequenceAttribute else { throw EnvelopeError(.invalid, attribute: name, "is set by the bus, not by publishers") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
