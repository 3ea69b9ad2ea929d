import GridSchema

/// One entry of an access list, matched against `<type>/<grid>` topics (see ``Topic``):
///
/// | entry                     | publish may send                | subscribe/replay may ask for       |
/// |---------------------------|---------------------------------|------------------------------------|
/// | `*`                       | every topic                     | every prefix                       |
/// | `incident.*`              | topics starting `incident.`     | prefixes starting `incident.`      |
/// | `incident.reported`       | that type, any grid             | prefixes starting `incident.reported/` (or the bare type) |
/// | `incident.reported/G-01*` | that type, grids starting G-01  | prefixes starting with it          |
/// | `incident.reported/G-01`  | exactly that topic              | prefixes starting with it          |
public struct TopicPattern: Sendable, Hashable, CustomStringConvertible {
    public let description: String
    /// Topics (or subscription prefixes) must start with these bytes…
    let prefix: [UInt8]
    /// …and, for publish, equal them exactly when the entry names one topic.
    let exact: Bool
    /// A bare event type also admits its name without the slash, as a subscription prefix.
    let bareType: [UInt8]?

    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public let reason: String
        public var description: String { reason }
    }

    public init(_ text: String) throws(Error) {
        description = text
        guard !text.isEmpty, !text.contains(where: { $0.isWhitespace }) else {
            throw Error(reason: "'\(text)' must be a non-empty topic pattern without spaces")
        }
        if text.hasSuffix("*") {
            let head = text.dropLast()
            guard !head.contains("*") else { throw Error(reason: "'\(text)': '*' may only end a pattern") }
            prefix = Array(head.utf8)
            exact = false
            bareType = nil
            return
        }
        guard !text.contains("*") else { throw Error(reason: "'\(text)': '*' may only end a pattern") }
        let type = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard EventType(rawValue: String(type)) != nil else {
            let known = EventType.allCases.map(\.rawValue)
            var reason = "'\(type)' is not a registered event type"
            if let close = known.first(where: { $0.hasPrefix(type.prefix(8)) }) { reason += " (did you mean '\(close)'?)" }
            throw Error(reason: reason + "; end the pattern with '*' for a prefix")
        }
        if text.contains("/") {
            prefix = Array(text.utf8)
            exact = true
            bareType = nil
        } else {
            prefix = Array((text + "/").utf8)
            exact = false
            bareType = Array(text.utf8)
        }
    }

    /// Whether an event on `topic` may be published.
    public func admits(topic: some Collection<UInt8>) -> Bool {
        exact ? topic.elementsEqual(prefix) : topic.starts(with: prefix)
    }

    /// Whether a subscription (or replay) prefix asks only for topics this entry admits.
    public func covers(subscription: some Collection<UInt8>) -> Bool {
        subscription.starts(with: prefix) || (bareType.map { subscription.elementsEqual($0) } ?? false)
    }
}
