import Foundation
import ZeroMQ

/// NATS JetStream with three replicas, the baseline of (s): three Debian `nats-server` processes
/// clustered on loopback, a file-storage stream with `num_replicas: 3`.
final class JetStreamCluster {
    private let directory: String
    let clientPorts: [Int]
    private let routePorts: [Int]
    private(set) var servers: [Server?]

    init(directory: String, context: ZMQContext) throws {
        self.directory = directory
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        clientPorts = try (0..<3).map { _ in try freePort(context) }
        routePorts = try (0..<3).map { _ in try freePort(context) }
        servers = [nil, nil, nil]
        let routes = routePorts.map { "nats://127.0.0.1:\($0)" }.joined(separator: ", ")
        for index in 0..<3 {
            try """
            server_name: n\(index)
            listen: 127.0.0.1:\(clientPorts[index])
            jetstream { store_dir: "\(directory)/js\(index)" }
            cluster { name: bench, listen: 127.0.0.1:\(routePorts[index]), routes: [\(routes)] }
            """.write(toFile: "\(directory)/n\(index).conf", atomically: true, encoding: .utf8)
            try start(index)
        }
        // Until the cluster has elected its meta leader: a stream can be created then.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let info = try? NATSClient(port: clientPorts[0], timeout: 2).request("$JS.API.INFO", ""), info.contains("\"memory\"") { return }
            usleep(200_000)
        }
        throw BenchError("the JetStream cluster did not form; see \(directory)/n*.log")
    }

    func start(_ index: Int) throws {
        servers[index] = try Server(
            URL(fileURLWithPath: "/usr/sbin/nats-server"),
            ["-c", "\(directory)/n\(index).conf"],
            log: "\(directory)/n\(index).log"
        )
    }

    /// The CPU seconds of the servers running now.
    var cpuSeconds: Double { servers.compactMap { $0?.cpuSeconds }.reduce(0, +) }

    /// `kill -9` of one server.
    func crash(_ index: Int) {
        guard let server = servers[index] else { return }
        kill(server.pid, SIGKILL)
        server.process.waitUntilExit()
        servers[index] = nil
    }

    /// The server leading the stream's replicas, from `STREAM.INFO`'s `cluster.leader`.
    func streamLeader(_ stream: String) throws -> Int {
        for port in clientPorts.indices where servers[port] != nil {
            guard let info = try? NATSClient(port: clientPorts[port], timeout: 2).request("$JS.API.STREAM.INFO.\(stream)", "") else { continue }
            for index in 0..<3 where info.contains(#""leader":"n\#(index)""#) { return index }
        }
        throw BenchError("no server names the stream's leader")
    }

    /// Waits until both of the stream leader's replicas are current (`STREAM.INFO`): a server
    /// killed while a restarted one is still catching up could leave the stream without a quorum
    /// to elect a new leader, which would measure the test rather than JetStream.
    func awaitCurrentReplicas(_ stream: String, timeout: Double = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            for port in clientPorts.indices where servers[port] != nil {
                guard let info = try? NATSClient(port: clientPorts[port], timeout: 2).request("$JS.API.STREAM.INFO.\(stream)", "") else { continue }
                if info.components(separatedBy: #""current":true"#).count - 1 == 2 { return }
                break
            }
            usleep(200_000)
        }
        throw BenchError("the stream's replicas were not current within \(Int(timeout)) s")
    }

    /// Whether one publish to `port` is stored and acknowledged within a second.
    func ackedOnce(port: Int, size: Int) -> Bool {
        guard let client = try? NATSClient(port: port, timeout: 1) else { return false }
        guard (try? client.subscribe("_INBOX.probe", id: 7)) != nil else { return false }
        client.publish("bench.d", reply: "_INBOX.probe", [UInt8](repeating: 0x61, count: size))
        guard (try? client.socket.flush()) != nil else { return false }
        guard let message = try? client.next(), message.subject == "_INBOX.probe" else { return false }
        return message.payload.starts(with: Array(#"{"stream":"BENCH""#.utf8))
    }

    func stop() {
        for index in servers.indices { servers[index]?.stop() }
    }
}
