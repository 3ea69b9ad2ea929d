import Foundation
import GridConfiguration
import ZeroMQ

/// Where the daemon's three sockets are, as a client sees them.
public struct BusEndpoints: Sendable {
    public var ingress: String
    public var egress: String
    public var replay: String
    /// CURVE keys; nil for a daemon in development mode.
    public var credentials: BusCredentials?

    public init(
        ingress: String = "tcp://127.0.0.1:7600",
        egress: String = "tcp://127.0.0.1:7601",
        replay: String = "tcp://127.0.0.1:7602",
        credentials: BusCredentials? = nil
    ) {
        self.ingress = ingress
        self.egress = egress
        self.replay = replay
        self.credentials = credentials
    }

    /// The endpoints of a comma-separated list, in order: each of `bus.ingress`, `bus.egress` and
    /// `bus.replay` may name every node of a cluster (docs/protocol.md, "A cluster of nodes").
    public static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The keys every worker takes for the bus.
    public static let keys: [ConfigKeySpec] = [
        ConfigKeySpec("bus.ingress", default: "tcp://127.0.0.1:7600", "gridbusd ingress endpoint (publishing); a cluster's, comma-separated"),
        ConfigKeySpec("bus.egress", default: "tcp://127.0.0.1:7601", "gridbusd egress endpoint (subscribing); a cluster's, comma-separated"),
        ConfigKeySpec("bus.replay", default: "tcp://127.0.0.1:7602", "gridbusd replay endpoint (catch-up, status); a cluster's, comma-separated"),
        ConfigKeySpec("bus.key", default: "", "this worker's CURVE secret certificate (NAME.key_secret, mode 0600); with bus.server-key"),
        ConfigKeySpec(
            "bus.server-key",
            default: "",
            "gridbusd's public certificate (gridbusd.key); empty with bus.key for a development-mode daemon"
        ),
    ]

    /// - `bus.ingress`, `bus.egress`, `bus.replay` (string, defaults: the loopback ports 7600–7602 of docs/architecture.md).
    /// - `bus.key`, `bus.server-key`: certificate files for CURVE (both or neither).
    public init(reader: GridConfigReader) throws(ConfigurationError) {
        let defaults = BusEndpoints()
        ingress = reader.string("bus.ingress", default: defaults.ingress)
        egress = reader.string("bus.egress", default: defaults.egress)
        replay = reader.string("bus.replay", default: defaults.replay)
        credentials = try BusCredentials.load(reader: reader)
    }
}

extension ZMQSocket {
    /// Connects a DEALER to every node of a comma-separated list (``BusEndpoints/list(_:)``). With
    /// several, only to nodes whose connection is up (`ZMQ_IMMEDIATE`): requests go round the nodes
    /// that are there, not into the queue of one that is gone.
    func connect(toEveryNodeOf list: String) throws(ZMQError) {
        let nodes = BusEndpoints.list(list)
        if nodes.count > 1 { try setImmediate(true) }
        for node in nodes { try connect(node) }
    }
}
