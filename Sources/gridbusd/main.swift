import GridBusDaemon
import GridConfiguration
import Logging
import Prometheus
import ServiceLifecycle
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

// Before any thread exists (libzmq's, NIO's): SIGINT/SIGTERM/SIGHUP go to one signal thread only.
TerminationSignals.block()

let arguments = CommandLine.arguments
if arguments.contains("--help") || arguments.contains("-h") {
    print(
        GridConfigReader.helpText(
            program: "gridbusd",
            summary: "the GridBus event bus daemon",
            usage: "gridbusd [--config FILE] [--KEY VALUE ...]",
            keys: BusConfiguration.keys
        )
    )
    exit(0)
}

let configuration: BusConfiguration
do {
    configuration = try BusConfiguration(reader: try await GridConfigReader.load(arguments: arguments, keys: BusConfiguration.keys))
} catch {
    FileHandleOutput.standardError("gridbusd: \(error)\n")
    exit(2)
}

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
    return handler
}
let logger = Logger(label: "gridbusd")
let group: ServiceGroup
do {
    (group, _) = try buildServiceGroup(configuration: configuration, context: ZMQContext(ioThreads: Int32(configuration.ioThreads)), registry: PrometheusCollectorRegistry(), logger: logger)
} catch {
    FileHandleOutput.standardError("gridbusd: \(error)\n")
    exit(2)
}
do {
    try await group.run()
} catch {
    logger.critical("gridbusd failed", metadata: ["error": "\(error)"])
    exit(1)
}
