import CPostgres

/// A statement's parameters as libpq sends them: numbers and text as text (PostgreSQL reads them
/// as the given type), bytes as they are.
struct PostgresParameters {
    enum Value {
        case integer(Int64)
        case real(Double)
        case text(String)
        case bytes([UInt8])
        case null
    }

    var values: [Value] = []

    // The type OIDs of pg_type.h: what postgres-nio sent for the same Swift values.
    private static let int8: Oid = 20
    private static let float8: Oid = 701
    private static let text: Oid = 25
    private static let bytea: Oid = 17

    var types: [Oid] {
        values.map {
            switch $0 {
            case .integer: Self.int8
            case .real: Self.float8
            case .text: Self.text
            case .bytes: Self.bytea
            case .null: 0  // the server infers it
            }
        }
    }

    /// Calls `body` with libpq's parallel arrays: count, types (``types``), values, lengths and formats.
    func withArrays<R>(
        types: [Oid],
        _ body: (
            Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?
        ) -> R
    ) -> R {
        // Every value in one buffer, text NUL-terminated; then a pointer into it for each.
        var buffer: [UInt8] = []
        var spans: [(offset: Int, length: Int)?] = []
        var formats: [Int32] = []
        for value in values {
            let start = buffer.count
            switch value {
            case .integer(let number): buffer += String(number).utf8
            case .real(let number): buffer += "\(number)".utf8
            case .text(let text): buffer += text.utf8
            case .bytes(let bytes): buffer += bytes
            case .null:
                spans.append(nil)
                formats.append(0)
                continue
            }
            if case .bytes = value {
                formats.append(1)
            } else {
                buffer.append(0)
                formats.append(0)
            }
            spans.append((start, buffer.count - start))
        }
        let lengths = spans.map { Int32($0?.length ?? 0) }
        // Never empty, so that an empty bytea too points somewhere.
        buffer.append(0)
        return buffer.withUnsafeBufferPointer { bytes in
            let base = UnsafeRawPointer(bytes.baseAddress!)
            let pointers: [UnsafePointer<CChar>?] = spans.map { span in
                span.map { (base + $0.offset).assumingMemoryBound(to: CChar.self) }
            }
            return types.withUnsafeBufferPointer { types in
                pointers.withUnsafeBufferPointer { pointers in
                    lengths.withUnsafeBufferPointer { lengths in
                        formats.withUnsafeBufferPointer { formats in
                            body(Int32(values.count), types.baseAddress, pointers.baseAddress, lengths.baseAddress, formats.baseAddress)
                        }
                    }
                }
            }
        }
    }
}

/// A statement's answer from libpq (a `PGresult`), its values in PostgreSQL's text format.
final class PostgresResult {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { PQclear(pointer) }

    var rowCount: Int { Int(PQntuples(pointer)) }
    var columnCount: Int32 { PQnfields(pointer) }
    /// Rows an INSERT, UPDATE or DELETE changed (nil for other statements).
    var changes: Int? { PQcmdTuples(pointer).flatMap { Int(String(cString: $0)) } }
    /// The command tag: `COMMIT`, or `ROLLBACK` for a COMMIT of an aborted transaction.
    var commandStatus: String { PQcmdStatus(pointer).map { String(cString: $0) } ?? "" }

    func isNull(_ row: Int, _ column: Int32) -> Bool { PQgetisnull(pointer, Int32(row), column) == 1 }

    /// The value's text, valid while this result lives.
    func bytes(_ row: Int, _ column: Int32) -> UnsafeRawBufferPointer {
        let value = PQgetvalue(pointer, Int32(row), column)
        return UnsafeRawBufferPointer(start: value, count: Int(PQgetlength(pointer, Int32(row), column)))
    }

    func type(_ column: Int32) -> Oid { PQftype(pointer, column) }

    /// The server's refusal, with the statement for whoever reads the log (its message names only a position).
    func error(sql: String) -> PostgresLinkError {
        func field(_ code: Character) -> String? {
            PQresultErrorField(pointer, Int32(code.asciiValue!)).map { String(cString: $0) }
        }
        let message = field("M") ?? PostgresPipeline.message(PQresultErrorMessage(pointer))
        // No SQLSTATE: libpq's own failure, the connection's.
        guard let state = field("C") else { return .connection(message) }
        return .server(sqlState: state, message: "\(message), in: \(sql.prefix(160))", constraint: field("n"))
    }
}

/// Values in PostgreSQL's text format, read without making strings of them.
enum PostgresText {
    static let bool: Oid = 16
    static let bytea: Oid = 17

    /// A decimal integer, or nil if the text is anything else (a real, a decimal with a fraction).
    static func integer(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        var index = 0
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { index = 1 }
        guard index < bytes.count else { return nil }
        var value: Int64 = 0
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (added, overflow2) = negative ? shifted.subtractingReportingOverflow(Int64(digit)) : shifted.addingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { return nil }
            value = added
            index += 1
        }
        return value
    }

    static func double(_ bytes: UnsafeRawBufferPointer) -> Double? {
        Double(String(decoding: bytes, as: UTF8.self))
    }

    /// bytea's hex format (`\x4142…`, PostgreSQL's default output since 9.0).
    static func bytea(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x") else { return Array(bytes) }
        func nibble(_ character: UInt8) -> UInt8 {
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
            default: character &- UInt8(ascii: "A") &+ 10
            }
        }
        let count = (bytes.count - 2) / 2
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count { buffer[index] = nibble(bytes[2 + 2 * index]) << 4 | nibble(bytes[3 + 2 * index]) }
            initialized = count
        }
    }
}
