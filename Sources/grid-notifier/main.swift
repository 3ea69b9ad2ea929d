import CoreMetrics
import GridBusClient
import GridConfiguration
import GridHTTP
import GridMetrics
import GridNotify
import GridProgram

// Signals are set up before main (CProgramSignals); start() checks it before any thread exists.
let (configuration, logger) = await ProgramStart.start(
    program: "grid-notifier",
    summary: "GridBus notifier: who hears what, through which channel, once per state change (docs/notifier.md)",
    keys: NotifierConfiguration.keys,
    read: { (reader) throws(ConfigurationError) in try NotifierConfiguration(reader: reader) },
    logLevel: \.logLevel
)
let metrics = DescribedMetricsFactory()
MetricsSystem.bootstrap(metrics)
// On PostgreSQL, instances may share the store: this one waits as a standby until it holds the lease.
let instance = WorkerInstance(
    "grid-notifier",
    store: configuration.store,
    schema: "gridbus_notifier",
    host: configuration.httpHost,
    port: configuration.httpPort,
    metrics: metrics,
    logger: logger
)
await ProgramStart.run("grid-notifier", dataDirectory: configuration.dataDirectory, logger: logger, standby: ProgramStandby(instance.standby)) {
    ready in
    ProgramServices(try await buildNotifier(configuration: configuration, logger: logger, metrics: metrics, onReady: ready, lease: instance.lease))
}
