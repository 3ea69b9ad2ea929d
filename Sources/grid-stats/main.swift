import Foundation
import GridConfiguration
import GridStats
import Logging
import ServiceLifecycle
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

// Signals are set up before main (CProcessSetup); start() checks it before any thread exists.
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
do {
    if command == "rebuild" {
        let report = try await rebuildStats(configuration: configuration, context: ZMQContext(), logger: logger, progress: RebuildOutput.progress)
        RebuildOutput.finish(
            summary: "rebuilt \(report.path) from the journal up to sequence \(report.head): \(report.events) events",
            differences: report.differences
        )
    }
    let group = try await buildStats(configuration: configuration, context: ZMQContext(), logger: logger)
    try await group.run()
} catch let error as DefinitionError {
    ProgramStart.exitForBadDefinition("grid-stats", error)
} catch let error as StatsRebuildError {
    FileHandleOutput.standardError("grid-stats rebuild: \(error)\n")
    exit(1)
} catch {
    logger.critical("grid-stats failed", metadata: ["error": "\(error)"])
    exit(1)
}
