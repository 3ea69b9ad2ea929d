/// Bad usage or bad configuration: which key, which value, why. Executables print it and exit 2.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let key: String
    public let value: String?
    public let reason: String
    /// Where the key can come from, e.g. "--config gridbus.yaml, GRIDBUS_JOURNAL_PATH or --journal-path".
    public let origin: String?

    public init(key: String, value: String? = nil, reason: String, origin: String? = nil) {
        self.key = key
        self.value = value
        self.reason = reason
        self.origin = origin
    }

    public var description: String {
        var text = "configuration key '\(key)'"
        if let value { text += " = '\(value)'" }
        text += ": \(reason)"
        if let origin { text += " (set in \(origin))" }
        return text
    }
}
