import CServiceNotify
import Foundation
import GridMetrics
import GridSchema
import Prometheus
import Testing

@testable import GridPlugins

/// What a plugin reports by systemd's notification protocol, and what the supervisor's board makes of it.
@Suite struct PluginNotificationTests {
    func send(_ socket: String, _ message: String) {
        #expect(message.withCString { gridbus_notify_send(socket, $0, strlen($0)) } == 0)
    }

    @Test func aPluginsDatagramsAreHeardAndAnotherGroupsAreDropped() throws {
        let socket = try NotifySocket(plugin: "notify-\(UUID().uuidString.prefix(8))")
        defer { socket.close() }
        #expect(socket.name.hasPrefix("@gridbusd/\(getpid())/notify-"))

        // This process is the sender: its group is heard, any other is not.
        send(socket.name, "READY=1\nSTATUS=active, store lease epoch 3\nX_GRIDBUS_ROLE=active\nnonsense\n=x")
        #expect(socket.receive(from: getpgid(0) + 1).isEmpty)
        send(socket.name, "STATUS=second")
        let heard = socket.receive(from: getpgid(0))
        #expect(heard == [["STATUS": "second"]])

        send(socket.name, "READY=1\nSTATUS=a=b\nX_GRIDBUS_ROLE=active\nnonsense\n=x")
        #expect(socket.receive(from: getpgid(0)) == [["READY": "1", "STATUS": "a=b", "X_GRIDBUS_ROLE": "active"]])
        #expect(socket.receive(from: getpgid(0)).isEmpty)
    }

    @Test func aSecondSocketOfTheSamePluginIsRefusedByName() throws {
        let first = try NotifySocket(plugin: "twice")
        defer { first.close() }
        #expect(throws: NotifySocketError.self) { try NotifySocket(plugin: "twice") }
    }

    @Test func theBoardShowsRolesAndCountsTakeoversNotFirstStarts() {
        let metrics = DescribedMetricsFactory()
        let board = PluginBoard(names: ["intake-a", "intake-b"], factory: metrics)
        func text() -> String { String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self) }
        func entry(_ name: String) -> BusStatus.Plugin? { board.plugins.first { $0.name == name } }

        board.set("intake-a", .running, pid: 10)
        #expect(text().contains(#"gridbus_plugin_active{plugin="intake-a"} 1"#), "running, and no standby")
        board.reported("intake-a", ["READY": "1", "STATUS": "active, store lease epoch 1", "X_GRIDBUS_ROLE": "active", "X_GRIDBUS_EPOCH": "1"])
        board.set("intake-b", .running, pid: 11)
        board.reported("intake-b", ["STATUS": "standby, waiting for the store's lease", "X_GRIDBUS_ROLE": "standby"])
        #expect(entry("intake-a")?.role == "active" && entry("intake-a")?.epoch == 1)
        #expect(entry("intake-b")?.role == "standby" && entry("intake-b")?.epoch == nil)
        #expect(text().contains(#"gridbus_plugin_active{plugin="intake-a"} 1"#))
        #expect(text().contains(#"gridbus_plugin_active{plugin="intake-b"} 0"#))
        #expect(text().contains(#"gridbus_plugin_takeovers_total{plugin="intake-a"} 0"#), "a first start is no takeover")

        // The active one dies; the standby takes over; the dead one's report ends with its run.
        board.exited("intake-a", "killed by signal 9")
        board.set("intake-a", .restarting)
        board.reported("intake-b", ["X_GRIDBUS_ROLE": "active", "X_GRIDBUS_EPOCH": "2", "STATUS": "active, store lease epoch 2"])
        #expect(entry("intake-a")?.role == nil && entry("intake-a")?.status == nil)
        #expect(entry("intake-b")?.role == "active" && entry("intake-b")?.epoch == 2)
        #expect(text().contains(#"gridbus_plugin_active{plugin="intake-a"} 0"#))
        #expect(text().contains(#"gridbus_plugin_active{plugin="intake-b"} 1"#))
        #expect(text().contains(#"gridbus_plugin_takeovers_total{plugin="intake-b"} 1"#))

        // A role the protocol does not know is not taken for one.
        board.reported("intake-b", ["X_GRIDBUS_ROLE": "leader"])
        #expect(entry("intake-b")?.role == "active")
    }
}
