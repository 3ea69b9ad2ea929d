import Foundation
import GridBusClient
import GridBusTestSupport
import GridSchema
import Testing
import ZeroMQ

/// A network partition, not a stopped server: the leading node runs in a network namespace of its
/// own, joined to the test's by a veth pair, and the pair is taken down. The node is alive but
/// hears nothing (no error, no reset): it must say that it cannot reach PostgreSQL instead of
/// claiming to lead, the other node takes the lease, and when the network comes back the old
/// leader follows the new one. Nothing ACKed is lost or doubled.
@Suite(.serialized, .timeLimit(.minutes(3)), .enabled(if: getuid() == 0, "network namespaces need root"))
struct PostgresPartitionTests {
    @Test func aLeaderCutOffByTheNetworkSaysSoAndTheOtherTakesOverWithoutLoss() async throws {
        let namespace = try NetworkNamespace()
        defer { namespace.remove() }
        let server = try PostgresTestServer(name: "partition", network: (namespace.hostAddress, namespace.insideAddress + "/32"))
        defer { try? server.stop() }
        let database = try server.makeDatabase("partition")
        let directory = try TemporaryFiles.makeDirectory("partition")

        // a, inside the namespace, reaches PostgreSQL and is reached over the veth pair.
        let inside = "tcp://\(namespace.insideAddress):*"
        let aChild = try Child(
            "gridbusd",
            [
                "--data-dir", "\(directory)/a", "--security-mode", "none", "--http-port", "0", "--bus-ingress", inside, "--bus-egress", inside,
                "--bus-replay", inside, "--journal-backend", "postgresql", "--journal-url",
                database.replacingOccurrences(of: "@127.0.0.1:", with: "@\(namespace.hostAddress):"), "--cluster-lease-timeout", "2s",
                "--log-level", "notice",
            ],
            in: directory,
            launcher: namespace.launcher
        )
        let a = PostgresClusterTests.Node(child: aChild, ready: try await readyFile("\(directory)/a/gridbusd.ready"))
        _ = try await PostgresClusterTests.waitFor(a) { $0.cluster?.role == "leader" }
        let b = try await PostgresClusterTests.startNode("b", url: database, in: directory)
        _ = try await PostgresClusterTests.waitFor(b) { $0.cluster?.leader == a.ingress }

        let context = ZMQContext()
        let toA = DirectPublisher(context: context, endpoint: a.ingress)
        for index in 1...100 { #expect(try await toA.publish(PostgresClusterTests.event("e\(index)")) == UInt64(index)) }
        _ = try await PostgresClusterTests.waitFor(b) { $0.head == 100 }

        try namespace.cut()
        let cutAt = ContinuousClock.now
        let bLeads = try await PostgresClusterTests.waitFor(b, timeout: .seconds(20)) { $0.cluster?.role == "leader" }
        #expect(bLeads.cluster?.epoch == 2)
        #expect(ContinuousClock.now - cutAt < .seconds(10), "b took over \(ContinuousClock.now - cutAt) after the cut")
        // a cannot be asked from here any more: gridctl asks it from inside its namespace.
        var shown = ""
        let deadline = ContinuousClock.now + .seconds(20)
        while !shown.contains("UNAVAILABLE"), ContinuousClock.now < deadline {
            let status = try Child("gridctl", ["status", "--replay", a.replay], in: directory, launcher: namespace.launcher)
            _ = await status.wait(timeout: .seconds(10))
            shown = status.stdout
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(shown.contains("cluster         postgresql · UNAVAILABLE"), "a, cut off, said: \(shown)")

        let toB = DirectPublisher(context: context, endpoint: b.ingress)
        #expect(try await toB.publish(PostgresClusterTests.event("e100")) == 100, "a resend is answered with its first sequence")
        for index in 101...200 { #expect(try await toB.publish(PostgresClusterTests.event("e\(index)")) == UInt64(index)) }

        // The network is back: a finds the lease taken and follows b to its head.
        try namespace.heal()
        let aFollows = try await PostgresClusterTests.waitFor(a, timeout: .seconds(30)) { $0.cluster?.role == "follower" && $0.head == 200 }
        #expect(aFollows.cluster?.leader == b.ingress)

        let requester = BusRequester(context: context, endpoint: a.replay)
        let replayed = try await requester.replay(after: 0, limit: 1000)
        await requester.close()
        #expect(replayed.events.map(\.sequence) == Array(1...200))
        #expect(Set(try replayed.events.map { try CloudEvent.decode($0.bytes).id }) == Set((1...200).map { "e\($0)" }))

        await toA.close()
        await toB.close()
        await PostgresClusterTests.stop([a, b])
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A network namespace joined to the test's by a veth pair on a /30 of 10.231.0.0/16: the test's
/// side `hostAddress`, the namespace's `insideAddress`. Taking the test's end down cuts every
/// packet between them without an error on either side, as a failed switch does.
final class NetworkNamespace {
    let name: String
    let hostAddress: String
    let insideAddress: String
    private let hostLink: String

    init() throws {
        let tag = String(UInt32.random(in: 0...0xFFFFFF), radix: 16)
        name = "gridbus-\(tag)"
        hostLink = "gbh\(tag)"
        let insideLink = "gbn\(tag)"
        let subnet = Int.random(in: 0..<16_384)
        hostAddress = "10.231.\(subnet / 64).\(subnet % 64 * 4 + 1)"
        insideAddress = "10.231.\(subnet / 64).\(subnet % 64 * 4 + 2)"
        try Self.ip(["netns", "add", name])
        try Self.ip(["link", "add", hostLink, "type", "veth", "peer", "name", insideLink])
        try Self.ip(["link", "set", insideLink, "netns", name])
        try Self.ip(["addr", "add", hostAddress + "/30", "dev", hostLink])
        try Self.ip(["link", "set", hostLink, "up"])
        try Self.ip(["netns", "exec", name, "ip", "addr", "add", insideAddress + "/30", "dev", insideLink])
        try Self.ip(["netns", "exec", name, "ip", "link", "set", insideLink, "up"])
        try Self.ip(["netns", "exec", name, "ip", "link", "set", "lo", "up"])
    }

    /// Runs a program inside the namespace (`ip netns exec` execs it, so signals reach it).
    var launcher: [String] { ["/usr/sbin/ip", "netns", "exec", name] }

    func cut() throws { try Self.ip(["link", "set", hostLink, "down"]) }
    func heal() throws { try Self.ip(["link", "set", hostLink, "up"]) }

    /// Deleting the namespace deletes the pair.
    func remove() { try? Self.ip(["netns", "delete", name]) }

    private static func ip(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw PostgresTestError("ip \(arguments.joined(separator: " ")): \(message)")
        }
    }
}
