import CoreMetrics
import GridConfiguration
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
await ProgramStart.run("grid-notifier", dataDirectory: configuration.dataDirectory, logger: logger) { ready in
    ProgramServices(try await buildNotifier(configuration: configuration, logger: logger, metrics: metrics, onReady: ready))
}
