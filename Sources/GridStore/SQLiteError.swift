import CSQLite

/// A failed SQLite call: the result code, SQLite's message and what we were doing.
public struct SQLiteError: Error, Sendable, Hashable, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let operation: String

    public init(code: Int32, message: String, operation: String) {
        self.code = code
        self.message = message
        self.operation = operation
    }

    public var description: String { "\(operation): \(message) (SQLite code \(code))" }

    /// The disk or the database's size limit is full (`SQLITE_FULL`).
    public var isFull: Bool { code & 0xFF == SQLITE_FULL }
    /// A unique or primary key constraint failed.
    public var isConstraint: Bool { code & 0xFF == SQLITE_CONSTRAINT }
}
