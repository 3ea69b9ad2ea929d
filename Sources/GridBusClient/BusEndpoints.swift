import GridConfiguration

/// Where the daemon's three sockets are, as a client sees them.
public struct BusEndpoints: Sendable, Hashable {
    public var ingress: String
    public var egress: String
    public var replay: String

    public init(ingress: String = "tcp://127.0.0.1:7600", egress: String = "tcp://127.0.0.1:7601", replay: String = "tcp://127.0.0.1:7602") {
        self.ingress = ingress
        self.egress = egress
        self.replay = replay
    }

    /// The keys every worker takes for the bus.
    public static let keys: [ConfigKeySpec] = [
        ConfigKeySpec("bus.ingress", default: "tcp://127.0.0.1:7600", "gridbusd ingress endpoint (publishing)"),
        ConfigKeySpec("bus.egress", default: "tcp://127.0.0.1:7601", "gridbusd egress endpoint (subscribing)"),
        ConfigKeySpec("bus.replay", default: "tcp://127.0.0.1:7602", "gridbusd replay endpoint (catch-up, status)"),
    ]

    /// - `bus.ingress`, `bus.egress`, `bus.replay` (string, defaults: DESIGN.md's loopback ports 7600–7602).
    public init(reader: GridConfigReader) {
        let defaults = BusEndpoints()
        ingress = reader.string("bus.ingress", default: defaults.ingress)
        egress = reader.string("bus.egress", default: defaults.egress)
        replay = reader.string("bus.replay", default: defaults.replay)
    }
}
