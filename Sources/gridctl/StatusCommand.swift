import ArgumentParser
import Foundation
import GridBusClient
import GridConfiguration
import GridJSON
import GridSchema
import ZeroMQ

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the daemon's head, journal, security, subscribers and plugins (with each instance's role)."
    )

    @OptionGroup var bus: BusOptions
    @Flag(help: "Print the raw JSON answer.") var json = false

    func run() async throws {
        let requester = BusRequester(context: ZMQContext(), endpoint: bus.replay, credentials: try bus.credentials())
        let status: BusStatus
        do { status = try await requester.status(timeout: bus.timeoutDuration) } catch {
            await requester.close()
            throw RuntimeFailure("\(error)")
        }
        await requester.close()
        if json {
            FileHandleOutput.standardOutput(String(decoding: try JSONTreeEncoder().encode(status), as: UTF8.self) + "\n")
            return
        }
        var text = """
            head sequence   \(status.head)
            oldest (tail)   \(status.tail)
            journal         \(status.journalEvents) events, \(status.journalBytes) bytes, durability \(status.durability)
                            \(status.journalPath)
            \(Self.clusterLine(status.cluster))
            endpoints       ingress \(status.endpoints.ingress) · egress \(status.endpoints.egress) · replay \(status.endpoints.replay)
            security        \(status.security)\(status.identities.isEmpty ? "" : " · identities: " + status.identities.joined(separator: ", "))
            subscriptions   \(status.subscriptions) distinct topic prefixes
            uptime          \(Int(status.uptimeSeconds))s

            """
        if status.subscribers.isEmpty {
            text += "subscribers     none reporting\n"
        } else {
            text += "SUBSCRIBER                      CURSOR      BEHIND  STATE     LAST REPORT\n"
            for subscriber in status.subscribers {
                let state = subscriber.lagging ? "LAGGING" : "ok"
                text +=
                    subscriber.name.padding(toLength: 30, withPad: " ", startingAt: 0) + "  "
                    + String(subscriber.cursor).leftPadded(10) + "  " + String(subscriber.behind).leftPadded(10) + "  "
                    + state.padding(toLength: 8, withPad: " ", startingAt: 0) + "  " + String(format: "%.1fs ago", subscriber.secondsSinceReport)
                    + "\n"
            }
        }
        if !status.plugins.isEmpty {
            text += "\nPLUGIN                          STATE        ROLE              PID    RESTARTS  EXITS  LAST EXIT\n"
            for plugin in status.plugins {
                text +=
                    plugin.name.padding(toLength: 30, withPad: " ", startingAt: 0) + "  "
                    + plugin.state.uppercased().padding(toLength: 11, withPad: " ", startingAt: 0) + "  "
                    + Self.role(plugin).padding(toLength: 16, withPad: " ", startingAt: 0) + "  "
                    + (plugin.pid.map(String.init) ?? "-").leftPadded(6) + "  " + String(plugin.restarts).leftPadded(8) + "  "
                    + String(plugin.exits).leftPadded(5) + "  " + (plugin.lastExit ?? "-") + "\n"
            }
        }
        FileHandleOutput.standardOutput(text)
    }

    /// A worker instance sharing its store: `active (epoch 4)` or `standby`; `-` when it says nothing.
    static func role(_ plugin: BusStatus.Plugin) -> String {
        switch plugin.role {
        case "active": "active" + (plugin.epoch.map { " (epoch \($0))" } ?? "")
        case let role?: role
        case nil: "-"
        }
    }

    /// The node's part in the bus: `cluster         postgresql · leader (epoch 3) · tcp://10.0.0.11:7600`.
    static func clusterLine(_ cluster: BusStatus.Cluster?) -> String {
        guard let cluster, cluster.backend != "sqlite" else { return "cluster         sqlite · single node" }
        let role =
            switch cluster.role {
            case "leader": "leader" + (cluster.epoch.map { " (epoch \($0))" } ?? "") + " · this node " + cluster.advertise
            case "follower": "follower · leader " + (cluster.leader ?? "unknown") + " · this node " + cluster.advertise
            default: "UNAVAILABLE: " + (cluster.problem ?? "PostgreSQL cannot be reached")
            }
        return "cluster         \(cluster.backend) · \(role)"
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
