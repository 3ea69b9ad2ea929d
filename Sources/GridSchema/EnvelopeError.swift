/// Why an event was refused, saying exactly which attribute is wrong.
public struct EnvelopeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The NACK code a publisher receives (docs/protocol.md lists them).
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// Not a JSON object, or not JSON at all.
        case malformed
        /// A CloudEvents or GridBus rule is broken (missing, empty or wrongly typed attribute).
        case invalid
        /// `type` is not in the registry.
        case unknownType = "unknown-type"
        /// Larger than the daemon's limit.
        case tooLarge = "too-large"
    }

    public let code: Code
    /// The attribute at fault (`source`, `data`, an extension name), or nil for the whole event.
    public let attribute: String?
    public let reason: String

    public init(_ code: Code, attribute: String? = nil, _ reason: String) {
        self.code = code
        self.attribute = attribute
        self.reason = reason
    }

    public var description: String {
        if let attribute { "attribute '\(attribute)': \(reason)" } else { reason }
    }
}
