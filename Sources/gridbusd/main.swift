import GridBusDaemon
import GridConfiguration
import Logging
import Prometheus
import ServiceLifecycle
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

// Signals are set up before main (CProcessSetup); start() checks it before any thread exists.
let (configuration, logger) = await ProgramStart.start(
    program: "gridbusd",
    summary: "the GridBus event bus daemon",
    keys: BusConfiguration.keys,
    read: { (reader) throws(ConfigurationError) in try BusConfiguration(reader: reader) },
    logLevel: \.logLevel
)
let group: ServiceGroup
do {
    let context = ZMQContext(ioThreads: Int32(configuration.ioThreads))
    (group, _) = try buildServiceGroup(configuration: configuration, context: context, registry: PrometheusCollectorRegistry(), logger: logger)
} catch {
    ProgramStart.exitForBadDefinition("gridbusd", error)
}
do {
    try await group.run()
} catch {
    logger.critical("gridbusd failed", metadata: ["error": "\(error)"])
    exit(1)
}
