import CoreMetrics
import GridBusClient
import GridConfiguration
import GridHTTP
import GridMetrics
import GridProgram
import GridStats

// Signals are set up before main (CProgramSignals); start() checks it before any thread exists.
let (command, arguments) = ProgramStart.command(["rebuild"])
let (configuration, logger) = await ProgramStart.start(
    program: "grid-stats",
    summary: "GridBus statistics: the indicators of grid governance, /metrics, /api/v1 and a live dashboard (docs/stats.md)",
    keys: StatsConfiguration.keys,
    arguments: arguments,
    commands: [("rebuild", "rebuild the statistics from the journal into rebuild.into and compare them with the live ones")],
    read: { (reader) throws(ConfigurationError) in try StatsConfiguration(reader: reader) },
    logLevel: \.logLevel
)
if command == "rebuild" {
    await RebuildOutput.rebuild("grid-stats") {
        let report = try await rebuildStats(configuration: configuration, logger: logger, progress: RebuildOutput.progress)
        return ("rebuilt \(report.path) from the journal up to sequence \(report.head): \(report.events) events", report.differences)
    }
}
let metrics = DescribedMetricsFactory()
MetricsSystem.bootstrap(metrics)
// On PostgreSQL, instances may share the store: this one waits as a standby until it holds the lease.
let instance = WorkerInstance(
    "grid-stats",
    store: configuration.store,
    schema: "gridbus_stats",
    host: configuration.httpHost,
    port: configuration.httpPort,
    metrics: metrics,
    logger: logger
)
await ProgramStart.run("grid-stats", dataDirectory: configuration.dataDirectory, logger: logger, standby: ProgramStandby(instance.standby)) { ready in
    ProgramServices(try await buildStats(configuration: configuration, logger: logger, metrics: metrics, onReady: ready, lease: instance.lease))
}
