import ArgumentParser
import GridBusClient
import GridSchema
import ZeroMQ

/// `gridctl`: the operator's command line.
struct GridctlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridctl",
        abstract: "Operate a GridBus: publish, tail, replay, status.",
        discussion: """
            Endpoints default to DESIGN.md's loopback ports and can be set with flags or with
            GRIDBUS_BUS_INGRESS, GRIDBUS_BUS_EGRESS and GRIDBUS_BUS_REPLAY.
            Exit codes: 0 success, 1 runtime failure (daemon unreachable, event refused), 2 bad usage.
            """,
        subcommands: [PublishCommand.self, TailCommand.self, ReplayCommand.self, StatusCommand.self, SchemasCommand.self]
    )
}

/// Options every bus command takes.
struct BusOptions: ParsableArguments {
    @Option(name: .customLong("ingress"), help: "Ingress endpoint (env GRIDBUS_BUS_INGRESS).")
    var ingress: String = Environment.value("GRIDBUS_BUS_INGRESS") ?? BusEndpoints().ingress

    @Option(name: .customLong("egress"), help: "Egress endpoint (env GRIDBUS_BUS_EGRESS).")
    var egress: String = Environment.value("GRIDBUS_BUS_EGRESS") ?? BusEndpoints().egress

    @Option(name: .customLong("replay"), help: "Replay endpoint (env GRIDBUS_BUS_REPLAY).")
    var replay: String = Environment.value("GRIDBUS_BUS_REPLAY") ?? BusEndpoints().replay

    @Option(help: "Seconds to wait for the daemon before giving up.")
    var timeout: Double = 5

    var endpoints: BusEndpoints { BusEndpoints(ingress: ingress, egress: egress, replay: replay) }
    var timeoutDuration: Duration { .milliseconds(Int(timeout * 1000)) }

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }
}

/// A command failed at run time: print the message and exit 1.
struct RuntimeFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
