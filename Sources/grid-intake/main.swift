import CoreMetrics
import GridConfiguration
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
await ProgramStart.run("grid-intake", dataDirectory: configuration.dataDirectory, logger: logger) { ready in
    ProgramServices(try await buildIntake(configuration: configuration, logger: logger, metrics: metrics, onReady: ready))
}
