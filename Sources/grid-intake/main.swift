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
let lease = configuration.store.lease(schema: "gridbus_intake", http: "http://\(configuration.httpHost):\(configuration.httpPort)", logger: logger)
let standby = ProgramStandby(
    workerStandby(
        "grid-intake",
        lease: lease,
        host: configuration.httpHost,
        port: configuration.httpPort,
        metrics: metrics,
        logger: logger
    )
)
await ProgramStart.run("grid-intake", dataDirectory: configuration.dataDirectory, logger: logger, standby: standby) { ready in
    ProgramServices(try await buildIntake(configuration: configuration, logger: logger, metrics: metrics, onReady: ready, lease: lease))
}
