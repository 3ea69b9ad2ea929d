/// The answer to `STATUS` on the replay socket, printed by `gridctl status`.
public struct BusStatus: Sendable, Codable, Hashable {
    public struct Subscriber: Sendable, Codable, Hashable {
        public var name: String
        public var cursor: UInt64
        public var behind: UInt64
        public var lagging: Bool
        public var secondsSinceReport: Double
        public init(name: String, cursor: UInt64, behind: UInt64, lagging: Bool, secondsSinceReport: Double) {
            self.name = name
            self.cursor = cursor
            self.behind = behind
            self.lagging = lagging
            self.secondsSinceReport = secondsSinceReport
        }
    }
    public struct Endpoints: Sendable, Codable, Hashable {
        public var ingress: String
        public var egress: String
        public var replay: String
        public init(ingress: String, egress: String, replay: String) {
            self.ingress = ingress
            self.egress = egress
            self.replay = replay
        }
    }

    public var head: UInt64
    public var tail: UInt64
    public var journalEvents: UInt64
    public var journalBytes: Int64
    public var journalPath: String
    public var durability: String
    /// Distinct subscribed topic prefixes on the egress socket.
    public var subscriptions: Int
    /// Subscribers that report their cursor (those built on the worker runtime).
    public var subscribers: [Subscriber]
    public var uptimeSeconds: Double
    public var endpoints: Endpoints
    public var security: String

    public init(
        head: UInt64,
        tail: UInt64,
        journalEvents: UInt64,
        journalBytes: Int64,
        journalPath: String,
        durability: String,
        subscriptions: Int,
        subscribers: [Subscriber],
        uptimeSeconds: Double,
        endpoints: Endpoints,
        security: String
    ) {
        self.head = head
        self.tail = tail
        self.journalEvents = journalEvents
        self.journalBytes = journalBytes
        self.journalPath = journalPath
        self.durability = durability
        self.subscriptions = subscriptions
        self.subscribers = subscribers
        self.uptimeSeconds = uptimeSeconds
        self.endpoints = endpoints
        self.security = security
    }
}
