/// The first frame of every message on the egress socket, which ZeroMQ matches by byte prefix.
///
/// Layout: `<type>/<grid>`, e.g. `incident.dispatched/G-01-02-07`; events that concern no grid
/// use `-` as the grid: `bus.heartbeat/-`.
///
/// - Every event of one type: subscribe to `incident.dispatched/`.
/// - Every event of one family: subscribe to `incident.`.
/// - Every event of one grid: subscribe to `<type>/<grid>` for each type (``prefixes(forGrid:)``,
///   one subscription per type; ZeroMQ's subscription trie makes that cheap).
/// - Everything: subscribe to the empty prefix.
public struct Topic: Sendable, Hashable, CustomStringConvertible {
    public static let separator: UInt8 = UInt8(ascii: "/")
    public static let noGrid = "-"

    public let type: String
    public let grid: String?

    public init(type: EventType, grid: String?) { self.init(typeName: type.rawValue, grid: grid) }

    public init(typeName: String, grid: String?) {
        self.type = typeName
        self.grid = grid
    }

    /// The topic frame's bytes.
    public var bytes: [UInt8] {
        var bytes = Array(type.utf8)
        bytes.append(Self.separator)
        bytes.append(contentsOf: (grid ?? Self.noGrid).utf8)
        return bytes
    }

    public var description: String { String(decoding: bytes, as: UTF8.self) }

    /// The prefix that selects every event of one type.
    public static func prefix(forType type: EventType) -> String { type.rawValue + "/" }

    /// The prefixes that together select every event of one grid, one per type.
    public static func prefixes(forGrid grid: String) -> [String] {
        EventType.allCases.map { $0.rawValue + "/" + grid }
    }

    /// Whether a topic starts with one of `prefixes` (an empty list matches nothing, `[""]` everything).
    public static func matches(_ topic: some Collection<UInt8>, anyOf prefixes: [[UInt8]]) -> Bool {
        prefixes.contains { prefix in prefix.count <= topic.count && topic.starts(with: prefix) }
    }
}
