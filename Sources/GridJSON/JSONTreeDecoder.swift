#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `Decodable` values read from a ``JSONValue`` tree, the way ``GridJSON/decoder()`` reads them
/// from text (RFC 3339 times, the same `DecodingError`s with the same coding paths), without
/// Foundation's `JSONDecoder`, which costs several times as much per value: the workers decode a
/// payload or a stored record on every event (docs/benchmarks.md, run AQ). An event's `data` is
/// already a tree, so its payload is decoded without being written out and parsed again.
/// One difference: an integer beyond `Int64` is a `Double` in a ``JSONValue``, so it does not
/// decode as a `UInt64` (nothing GridBus stores comes near).
public struct JSONTreeDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try TreeDecoder(value: value, parentPath: [], key: nil).unbox(T.self)
    }

    /// Parses `bytes` (``JSONReader``) and decodes the value; invalid JSON is a `DecodingError.dataCorrupted`,
    /// as with `JSONDecoder`, with the ``JSONReadError`` (its byte) underneath.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "The given data was not valid JSON.", underlyingError: error))
        }
        return try decode(type, from: value)
    }

    public func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T { try decode(type, from: [UInt8](data)) }
}

/// One value of the tree and where it is.
private struct TreeDecoder: Decoder {
    let value: JSONValue
    /// The path is put together only when asked for (an error, or a type that reads it).
    private let parentPath: [any CodingKey]
    private let key: (any CodingKey)?
    var codingPath: [any CodingKey] { key.map { parentPath + [$0] } ?? parentPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(value: JSONValue, parentPath: [any CodingKey], key: (any CodingKey)?) {
        self.value = value
        self.parentPath = parentPath
        self.key = key
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: Any].self, value, codingPath) }
        return KeyedDecodingContainer(KeyedTreeContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch([Any].self, value, codingPath) }
        return UnkeyedTreeContainer(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    /// Times are RFC 3339 strings (GridJSON's strategy), a ``JSONValue`` is the tree itself;
    /// everything else decodes itself.
    func unbox<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        if T.self == Date.self {
            if value == .null {
                throw DecodingError.valueNotFound(
                    Date.self,
                    .init(codingPath: codingPath, debugDescription: "Expected Date value but found null instead.")
                )
            }
            let text = try decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "'\(text)' is not an RFC 3339 time"))
            }
            return date as! T
        }
        return try T(from: self)
    }
}

extension TreeDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool { value == .null }
    func decode(_ type: Bool.Type) throws -> Bool {
        // Foundation calls a null here a type mismatch, not a missing value: so do we (same messages).
        guard case .bool(let flag) = value else {
            throw DecodingError.typeMismatch(
                type,
                .init(codingPath: codingPath, debugDescription: "Expected to decode Bool but found \(kind(of: value)) instead.")
            )
        }
        return flag
    }
    func decode(_ type: String.Type) throws -> String {
        guard case .string(let text) = value else { throw mismatch(type, value, codingPath) }
        return text
    }
    func decode(_ type: Double.Type) throws -> Double { try floatingPoint(value, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try floatingPoint(value, codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try integer(value, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(value, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(value, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(value, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(value, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(value, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(value, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(value, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(value, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(value, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try unbox(type) }
}

private struct KeyedTreeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }
    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    /// The member's decoder; a missing member is `keyNotFound`. A null is refused by what reads it
    /// (a type that decodes itself may take null; an enum reports the String it wanted, as with Foundation).
    private func member(_ key: Key) throws -> TreeDecoder {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return TreeDecoder(value: value, parentPath: codingPath, key: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool { (members[key.stringValue] ?? .null) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try member(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try member(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try member(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try member(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try member(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try member(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try member(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try member(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try member(key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try member(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try member(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try member(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try member(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try member(key).decode(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try member(key).unbox(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try member(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try member(key).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { superDecoder(named: TreeKey(stringValue: "super")) }
    func superDecoder(forKey key: Key) throws -> any Decoder { superDecoder(named: key) }
    private func superDecoder(named key: any CodingKey) -> any Decoder {
        TreeDecoder(value: members[key.stringValue] ?? .null, parentPath: codingPath, key: key)
    }
}

private struct UnkeyedTreeContainer: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(items: [JSONValue], codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    /// The next item's decoder; past the end is `valueNotFound`. A null is refused by what reads it.
    private mutating func next<T>(for type: T.Type) throws -> TreeDecoder {
        let key = TreeKey(index: currentIndex)
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath + [key], debugDescription: "Unkeyed container is at end."))
        }
        currentIndex += 1
        return TreeDecoder(value: items[currentIndex - 1], parentPath: codingPath, key: key)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(for: type).decode(type) }
    mutating func decode(_ type: String.Type) throws -> String { try next(for: type).decode(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(for: type).decode(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(for: type).decode(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(for: type).decode(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(for: type).decode(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(for: type).decode(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(for: type).decode(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(for: type).decode(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(for: type).decode(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(for: type).decode(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(for: type).decode(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(for: type).decode(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(for: type).decode(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(for: type).unbox(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next(for: [String: Any].self).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next(for: [Any].self).unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next(for: JSONValue.self) }
}

/// A key of the coding path: an array index, or `super`.
struct TreeKey: CodingKey {
    let stringValue: String
    let intValue: Int?
    init(stringValue: String) { (self.stringValue, self.intValue) = (stringValue, nil) }
    init(intValue: Int) { (self.stringValue, self.intValue) = ("Index \(intValue)", intValue) }
    init(index: Int) { self.init(intValue: index) }
}

// MARK: Scalars

/// An integer from a JSON number, exactly or not at all (as `JSONDecoder`: 3.0 is an Int, 3.5 is not).
private func integer<I: FixedWidthInteger>(_ value: JSONValue, _ path: @autoclosure () -> [any CodingKey]) throws -> I {
    let exact: I?
    switch value {
    case .integer(let integer): exact = I(exactly: integer)
    case .number(let number): exact = I(exactly: number)
    default: throw mismatch(I.self, value, path())
    }
    guard let exact else {
        throw DecodingError.dataCorrupted(
            .init(codingPath: path(), debugDescription: "Parsed JSON number <\(describe(value))> does not fit in \(I.self).")
        )
    }
    return exact
}

private func floatingPoint<F: BinaryFloatingPoint>(_ value: JSONValue, _ path: @autoclosure () -> [any CodingKey]) throws -> F {
    switch value {
    case .integer(let integer): return F(integer)
    case .number(let number): return F(number)
    default: throw mismatch(F.self, value, path())
    }
}

private func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
    if value == .null {
        return .valueNotFound(type, .init(codingPath: path, debugDescription: "Expected \(type) value but found null instead."))
    }
    return .typeMismatch(type, .init(codingPath: path, debugDescription: "Expected to decode \(type) but found \(kind(of: value)) instead."))
}

private func kind(of value: JSONValue) -> String {
    switch value {
    case .null: "null"
    case .bool: "bool"
    case .integer, .number: "number"
    case .string: "a string"
    case .array: "an array"
    case .object: "a dictionary"
    }
}

private func describe(_ value: JSONValue) -> String {
    switch value {
    case .integer(let integer): String(integer)
    case .number(let number): "\(number)"
    default: kind(of: value)
    }
}
