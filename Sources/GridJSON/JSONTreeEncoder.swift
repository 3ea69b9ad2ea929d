#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `Encodable` values written as JSON text the way ``GridJSON/encoder()`` writes them (sorted
/// keys, slashes unescaped, RFC 3339 times, non-finite numbers refused), without Foundation's
/// `JSONEncoder`, which costs several times as much per value: the workers encode an event or a
/// stored record on every event (docs/benchmarks.md, run AQ). The text parses to the same value as
/// `JSONEncoder`'s; numbers with a fraction may be spelled differently.
public struct JSONTreeEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let node = try TreeEncoder.node(of: value, parentPath: [], key: nil)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        node.write(to: &bytes)
        return bytes
    }
}

/// The tree being built. Containers are boxes, because a nested container is filled after its
/// parent has taken it in.
private enum Node {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsigned(UInt64)
    case number(Double)
    case string(String)
    case object(ObjectBox)
    case array(ArrayBox)
    /// What a super encoder encodes, known only once its owner has written to it.
    case encoder(TreeEncoder)

    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .integer(let integer): self = .integer(integer)
        case .number(let number): self = .number(number)
        case .string(let text): self = .string(text)
        case .array(let items): self = .array(ArrayBox(items.map(Node.init)))
        case .object(let members): self = .object(ObjectBox(members.map { ($0.key, Node($0.value)) }))
        }
    }

    func write(to bytes: inout [UInt8]) {
        switch self {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .integer(let integer): bytes.append(contentsOf: String(integer).utf8)
        case .unsigned(let integer): bytes.append(contentsOf: String(integer).utf8)
        case .number(let number): bytes.append(contentsOf: "\(number)".utf8)  // finite: checked when encoded
        case .string(let text): JSONObjectWriter.appendString(text, to: &bytes)
        case .array(let box):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in box.items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                item.write(to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let box):
            bytes.append(UInt8(ascii: "{"))
            for (index, member) in box.sortedMembers().enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                JSONObjectWriter.appendString(member.key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                member.node.write(to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        case .encoder(let encoder): (encoder.node ?? .object(ObjectBox())).write(to: &bytes)
        }
    }
}

private final class ObjectBox {
    var members: [(key: String, node: Node)]
    init(_ members: [(key: String, node: Node)] = []) { self.members = members }

    /// In UTF-8 order, as `JSONEncoder`'s `.sortedKeys`; a key encoded twice keeps its last value.
    func sortedMembers() -> [(key: String, node: Node)] {
        var order = Array(members.indices)
        order.sort { left, right in
            let (a, b) = (members[left].key, members[right].key)
            return a == b ? left < right : a.utf8.lexicographicallyPrecedes(b.utf8)
        }
        var sorted: [(key: String, node: Node)] = []
        sorted.reserveCapacity(order.count)
        for (position, index) in order.enumerated() where position == order.count - 1 || members[order[position + 1]].key != members[index].key {
            sorted.append(members[index])
        }
        return sorted
    }
}

private final class ArrayBox {
    var items: [Node]
    init(_ items: [Node] = []) { self.items = items }
}

private final class TreeEncoder: Encoder {
    /// The path is put together only when asked for (an error, or a type that reads it): building
    /// it for every member cost more than the rest of the encoding.
    private let parentPath: [any CodingKey]
    private let key: (any CodingKey)?
    var codingPath: [any CodingKey] { key.map { parentPath + [$0] } ?? parentPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var node: Node?

    init(parentPath: [any CodingKey], key: (any CodingKey)?) {
        self.parentPath = parentPath
        self.key = key
    }

    /// Times as RFC 3339 strings (GridJSON's strategy), a ``JSONValue`` as itself; anything else
    /// encodes itself (nothing at all is an empty object, as with `JSONEncoder` below the top).
    static func node<T: Encodable>(of value: T, parentPath: [any CodingKey], key: (any CodingKey)?) throws -> Node {
        if T.self == Date.self { return .string(RFC3339.format(value as! Date)) }
        if T.self == JSONValue.self { return Node(value as! JSONValue) }
        let encoder = TreeEncoder(parentPath: parentPath, key: key)
        try value.encode(to: encoder)
        return encoder.node ?? .object(ObjectBox())
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object(let box)? = node { return KeyedEncodingContainer(KeyedTreeContainer(box: box, codingPath: codingPath)) }
        let box = ObjectBox()
        node = .object(box)
        return KeyedEncodingContainer(KeyedTreeContainer(box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array(let box)? = node { return UnkeyedTreeContainer(box: box, codingPath: codingPath) }
        let box = ArrayBox()
        node = .array(box)
        return UnkeyedTreeContainer(box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }
}

extension TreeEncoder: SingleValueEncodingContainer {
    func encodeNil() { node = .null }
    func encode(_ value: Bool) { node = .bool(value) }
    func encode(_ value: String) { node = .string(value) }
    func encode(_ value: Double) throws { node = try number(value, codingPath) }
    func encode(_ value: Float) throws { node = try number(Double(value), codingPath) }
    func encode(_ value: Int) { node = .integer(Int64(value)) }
    func encode(_ value: Int8) { node = .integer(Int64(value)) }
    func encode(_ value: Int16) { node = .integer(Int64(value)) }
    func encode(_ value: Int32) { node = .integer(Int64(value)) }
    func encode(_ value: Int64) { node = .integer(value) }
    func encode(_ value: UInt) { node = .unsigned(UInt64(value)) }
    func encode(_ value: UInt8) { node = .integer(Int64(value)) }
    func encode(_ value: UInt16) { node = .integer(Int64(value)) }
    func encode(_ value: UInt32) { node = .integer(Int64(value)) }
    func encode(_ value: UInt64) { node = .unsigned(value) }
    func encode<T: Encodable>(_ value: T) throws { node = try Self.node(of: value, parentPath: parentPath, key: key) }
}

private struct KeyedTreeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: ObjectBox
    let codingPath: [any CodingKey]

    private func set(_ node: Node, _ key: Key) { box.members.append((key.stringValue, node)) }

    mutating func encodeNil(forKey key: Key) { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(try number(value, codingPath + [key]), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(try number(Double(value), codingPath + [key]), key) }
    mutating func encode(_ value: Int, forKey key: Key) { set(.integer(Int64(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) { set(.integer(Int64(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) { set(.integer(Int64(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) { set(.integer(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) { set(.integer(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) { set(.unsigned(UInt64(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) { set(.integer(Int64(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) { set(.integer(Int64(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) { set(.integer(Int64(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) { set(.unsigned(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(try TreeEncoder.node(of: value, parentPath: codingPath, key: key), key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectBox()
        set(.object(nested), key)
        return KeyedEncodingContainer(KeyedTreeContainer<NestedKey>(box: nested, codingPath: codingPath + [key]))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = ArrayBox()
        set(.array(nested), key)
        return UnkeyedTreeContainer(box: nested, codingPath: codingPath + [key])
    }
    mutating func superEncoder() -> any Encoder { superEncoder(named: TreeKey(stringValue: "super")) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key) }
    private func superEncoder(named key: any CodingKey) -> any Encoder {
        let encoder = TreeEncoder(parentPath: codingPath, key: key)
        box.members.append((key.stringValue, .encoder(encoder)))
        return encoder
    }
}

private struct UnkeyedTreeContainer: UnkeyedEncodingContainer {
    let box: ArrayBox
    let codingPath: [any CodingKey]
    var count: Int { box.items.count }

    private var nextKey: TreeKey { TreeKey(index: box.items.count) }
    private var nextPath: [any CodingKey] { codingPath + [nextKey] }

    mutating func encodeNil() { box.items.append(.null) }
    mutating func encode(_ value: Bool) { box.items.append(.bool(value)) }
    mutating func encode(_ value: String) { box.items.append(.string(value)) }
    mutating func encode(_ value: Double) throws { box.items.append(try number(value, nextPath)) }
    mutating func encode(_ value: Float) throws { box.items.append(try number(Double(value), nextPath)) }
    mutating func encode(_ value: Int) { box.items.append(.integer(Int64(value))) }
    mutating func encode(_ value: Int8) { box.items.append(.integer(Int64(value))) }
    mutating func encode(_ value: Int16) { box.items.append(.integer(Int64(value))) }
    mutating func encode(_ value: Int32) { box.items.append(.integer(Int64(value))) }
    mutating func encode(_ value: Int64) { box.items.append(.integer(value)) }
    mutating func encode(_ value: UInt) { box.items.append(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt8) { box.items.append(.integer(Int64(value))) }
    mutating func encode(_ value: UInt16) { box.items.append(.integer(Int64(value))) }
    mutating func encode(_ value: UInt32) { box.items.append(.integer(Int64(value))) }
    mutating func encode(_ value: UInt64) { box.items.append(.unsigned(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { box.items.append(try TreeEncoder.node(of: value, parentPath: codingPath, key: nextKey)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = nextPath
        let nested = ObjectBox()
        box.items.append(.object(nested))
        return KeyedEncodingContainer(KeyedTreeContainer<NestedKey>(box: nested, codingPath: path))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = nextPath
        let nested = ArrayBox()
        box.items.append(.array(nested))
        return UnkeyedTreeContainer(box: nested, codingPath: path)
    }
    mutating func superEncoder() -> any Encoder {
        let encoder = TreeEncoder(parentPath: codingPath, key: nextKey)
        box.items.append(.encoder(encoder))
        return encoder
    }
}

/// JSON has no NaN or infinity: refused, as `JSONEncoder` refuses them by default.
private func number(_ value: Double, _ path: @autoclosure () -> [any CodingKey]) throws -> Node {
    guard value.isFinite else {
        throw EncodingError.invalidValue(value, .init(codingPath: path(), debugDescription: "Unable to encode \(value) directly in JSON."))
    }
    return .number(value)
}
