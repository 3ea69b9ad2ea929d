import ArgumentParser
import GridBusClient
import GridSchema
import GridSecurity
import ZeroMQ

/// `gridctl`: the operator's command line.
struct GridctlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridctl",
        abstract: "Operate a GridBus: publish, tail, replay, status.",
        discussion: """
            Endpoints default to the loopback ports 7600-7602 (docs/architecture.md) and can be set with flags or with
            GRIDBUS_BUS_INGRESS, GRIDBUS_BUS_EGRESS and GRIDBUS_BUS_REPLAY. With CURVE on, pass this
            operator's secret certificate and the daemon's public one (--key, --server-key, or
            GRIDBUS_BUS_KEY and GRIDBUS_BUS_SERVER_KEY); `gridctl keygen` makes key pairs.
            Exit codes: 0 success, 1 runtime failure (daemon unreachable, event refused), 2 bad usage.
            """,
        subcommands: [
            PublishCommand.self, TailCommand.self, ReplayCommand.self, StatusCommand.self, SchemasCommand.self, KeygenCommand.self,
            DistrictCommand.self, CaseCommand.self, ModeCommand.self, SilenceCommand.self, RemindersCommand.self, LoadCommand.self,
            BackupCommand.self, RestoreCommand.self,
        ]
    )
}

/// Options every bus command takes.
struct BusOptions: ParsableArguments {
    @Option(name: .customLong("ingress"), help: "Ingress endpoint; a cluster's, comma-separated (env GRIDBUS_BUS_INGRESS).")
    var ingress: String = Environment.value("GRIDBUS_BUS_INGRESS") ?? BusEndpoints().ingress

    @Option(name: .customLong("egress"), help: "Egress endpoint; a cluster's, comma-separated (env GRIDBUS_BUS_EGRESS).")
    var egress: String = Environment.value("GRIDBUS_BUS_EGRESS") ?? BusEndpoints().egress

    @Option(name: .customLong("replay"), help: "Replay endpoint; a cluster's, comma-separated (env GRIDBUS_BUS_REPLAY).")
    var replay: String = Environment.value("GRIDBUS_BUS_REPLAY") ?? BusEndpoints().replay

    @Option(name: .customLong("key"), help: "This client's CURVE secret certificate, NAME.key_secret (env GRIDBUS_BUS_KEY).")
    var keyOption: String?
    /// The option, or else the environment (an option with a default cannot be optional).
    var key: String? { keyOption ?? Environment.value("GRIDBUS_BUS_KEY") }

    @Option(name: .customLong("server-key"), help: "gridbusd's public certificate, gridbusd.key (env GRIDBUS_BUS_SERVER_KEY).")
    var serverKeyOption: String?
    var serverKey: String? { serverKeyOption ?? Environment.value("GRIDBUS_BUS_SERVER_KEY") }

    @Option(help: "Seconds to wait for the daemon before giving up.")
    var timeout: Double = 5

    /// CURVE credentials from --key and --server-key; nil when neither is given (development-mode daemon).
    func credentials() throws -> BusCredentials? {
        switch (key, serverKey) {
        case (nil, nil): return nil
        case (let key?, let serverKey?):
            do { return try BusCredentials(keyFile: key, serverKeyFile: serverKey) } catch { throw ValidationError("\(error)") }
        case (nil, _): throw ValidationError("--server-key needs --key too (this client's NAME.key_secret)")
        case (_, nil): throw ValidationError("--key needs --server-key too (gridbusd's public certificate)")
        }
    }

    func endpoints() throws -> BusEndpoints {
        BusEndpoints(ingress: ingress, egress: egress, replay: replay, credentials: try credentials())
    }
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
