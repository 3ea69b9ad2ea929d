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
let lease = configuration.store.lease(schema: "gridbus_notifier", http: "http://\(configuration.httpHost):\(configuration.httpPort)", logger: logger)
let standby = ProgramStandby(
    workerStandby(
        "grid-notifier",
        lease: lease,
        host: configuration.httpHost,
        port: configuration.httpPort,
        metrics: metrics,
        logger: logger
    )
)
await ProgramStart.run("grid-notifier", dataDirectory: configuration.dataDirectory, logger: logger, standby: standby) { ready in
    ProgramServices(try await buildNotifier(configuration: configuration, logger: logger, metrics: metrics, onReady: ready, lease: lease))
}
