import CoreMetrics
import GridBusClient
import GridConfiguration
import GridDispatch
import GridHTTP
import GridMetrics
import GridProgram

// Signals are set up before main (CProgramSignals); start() checks it before any thread exists.
let (command, arguments) = ProgramStart.command(["rebuild"])
let (configuration, logger) = await ProgramStart.start(
    program: "grid-dispatcher",
    summary: "GridBus dispatcher: registration, assignment, handler actions, time limits (docs/dispatcher.md)",
    keys: DispatcherConfiguration.keys,
    arguments: arguments,
    commands: [("rebuild", "rebuild the store from the journal into rebuild.into and compare it with the live one")],
    read: { (reader) throws(ConfigurationError) in try DispatcherConfiguration(reader: reader) },
    logLevel: \.logLevel
)
if command == "rebuild" {
    await RebuildOutput.rebuild("grid-dispatcher") {
        let report = try await rebuildDispatcher(configuration: configuration, logger: logger, progress: RebuildOutput.progress)
        var summary =
            "rebuilt \(report.path) from the journal up to sequence \(report.head): \(report.summary.events) events, \(report.summary.cases) cases"
        if report.summary.orphans > 0 { summary += ", \(report.summary.orphans) events about cases never reported" }
        return (summary, report.differences)
    }
}
let metrics = DescribedMetricsFactory()
MetricsSystem.bootstrap(metrics)
// On PostgreSQL, instances may share the store: this one waits as a standby until it holds the lease.
let instance = WorkerInstance(
    "grid-dispatcher",
    store: configuration.store,
    schema: "gridbus_dispatcher",
    host: configuration.httpHost,
    port: configuration.httpPort,
    metrics: metrics,
    logger: logger
)
await ProgramStart.run("grid-dispatcher", dataDirectory: configuration.dataDirectory, logger: logger, standby: ProgramStandby(instance.standby)) {
    ready in
    ProgramServices(try await buildDispatcher(configuration: configuration, logger: logger, metrics: metrics, onReady: ready, lease: instance.lease))
}
