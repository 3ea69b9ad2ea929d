/// A field at fault and why (`field` is empty for the request or document as a whole): what every
/// API answers with in `{"errors": [{"field", "reason"}]}` and what validation reports.
public struct FieldError: Error, Sendable, Equatable, Codable {
    public var field: String
    public var reason: String
    public init(_ field: String, _ reason: String) {
        self.field = field
        self.reason = reason
    }
}

/// Every field error of one request.
public struct FieldErrors: Error, Sendable, Equatable {
    public var errors: [FieldError]
    public init(_ errors: [FieldError]) { self.errors = errors }
}
