import CoreMetrics
import GridBusClient
import GridConfiguration
import GridHTTP
import GridIntake
import GridMetrics
import GridProgram

// Signals are set up before main (CProgramSignals); start() checks it before any thread exists.
let (configuration, logger) = await ProgramStart.start(
    program: "grid-intake",
    summary: "GridBus incident intake: native JSON API and Open311 GeoReport v2 (docs/intake.md)",
    keys: IntakeConfiguration.keys,
    read: { (reader) throws(ConfigurationError) in try IntakeConfiguration(reader: reader) },
    logLevel: \.logLevel
)
let metrics = DescribedMetricsFactory()
MetricsSystem.bootstrap(metrics)
// On PostgreSQL, instances may share the store: this one waits as a standby until it holds the lease.
let instance = WorkerInstance(
    "grid-intake",
    store: configuration.store,
    schema: "gridbus_intake",
    host: configuration.httpHost,
    port: configuration.httpPort,
    metrics: metrics,
    logger: logger
)
await ProgramStart.run("grid-intake", dataDirectory: configuration.dataDirectory, logger: logger, standby: ProgramStandby(instance.standby)) {
    ready in
    ProgramServices(try await buildIntake(configuration: configuration, logger: logger, metrics: metrics, onReady: ready, lease: instance.lease))
}
