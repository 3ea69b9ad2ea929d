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

    /// A plugin process as gridbusd's supervisor sees it.
    public struct Plugin: Sendable, Codable, Hashable {
        public var name: String
        /// starting, running, restarting (waiting out its back-off), stopping, exited, failed (gave up).
        public var state: String
        public var pid: Int32?
        public var restarts: Int
        public var exits: Int
        /// How the last run ended, e.g. "exit status 1" or "killed by signal 9".
        public var lastExit: String?
        /// What the running plugin last reported (`STATUS=`), if it reports (docs/plugins.md, "Status").
        public var status: String?
        /// An instance of a worker sharing its store: `active` or `standby`; nil when not reported.
        public var role: String?
        /// The store lease's epoch an active instance holds.
        public var epoch: Int64?
        public init(
            name: String,
            state: String,
            pid: Int32?,
            restarts: Int,
            exits: Int,
            lastExit: String?,
            status: String? = nil,
            role: String? = nil,
            epoch: Int64? = nil
        ) {
            self.name = name
            self.state = state
            self.pid = pid
            self.restarts = restarts
            self.exits = exits
            self.lastExit = lastExit
            self.status = status
            self.role = role
            self.epoch = epoch
        }
    }

    /// This node's part in the bus: on SQLite a single node that always leads; on PostgreSQL one of
    /// several nodes, one of which leads by a lease.
    public struct Cluster: Sendable, Codable, Hashable {
        /// `sqlite` or `postgresql`.
        public var backend: String
        /// `leader`, `follower`, or `unavailable` (PostgreSQL cannot be reached: this node neither writes nor knows the head).
        public var role: String
        /// The leader's ingress endpoint, where publishers go; nil while no leader is known.
        public var leader: String?
        /// The lease's fencing epoch while this node leads.
        public var epoch: UInt64?
        /// This node's ingress as publishers reach it.
        public var advertise: String
        /// Why the node is unavailable.
        public var problem: String?
        public init(backend: String, role: String, leader: String?, epoch: UInt64?, advertise: String, problem: String?) {
            self.backend = backend
            self.role = role
            self.leader = leader
            self.epoch = epoch
            self.advertise = advertise
            self.problem = problem
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
    /// `curve` or `none (development mode)`.
    public var security: String
    /// Names of the identities admitted (CURVE mode), never their keys.
    public var identities: [String]
    public var plugins: [Plugin]
    /// Absent in the answers of daemons from before clusters.
    public var cluster: Cluster?

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
        security: String,
        identities: [String] = [],
        plugins: [Plugin] = [],
        cluster: Cluster? = nil
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
        self.identities = identities
        self.plugins = plugins
        self.cluster = cluster
    }
}
