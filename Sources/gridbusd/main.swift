import GridBusDaemon
import GridConfiguration
import GridProgram
import Prometheus
import ZeroMQ

// Signals are set up before main (CProgramSignals); start() checks it before any thread exists.
let (configuration, logger) = await ProgramStart.start(
    program: "gridbusd",
    summary: "the GridBus event bus daemon",
    keys: BusConfiguration.keys,
    read: { (reader) throws(ConfigurationError) in try BusConfiguration(reader: reader) },
    logLevel: \.logLevel
)
await ProgramStart.run("gridbusd", dataDirectory: configuration.dataDirectory, logger: logger) { ready in
    let context = ZMQContext(ioThreads: Int32(configuration.ioThreads))
    let bus = try buildDaemon(configuration: configuration, context: context, registry: PrometheusCollectorRegistry(), logger: logger, onReady: ready)
    return ProgramServices(bus.services, onHangup: bus.reloadAccess)
}
