import Foundation
import GridConfiguration
import GridDispatch
import Logging
import ServiceLifecycle
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

// Signals are set up before main (CProcessSetup); start() checks it before any thread exists.
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
do {
    if command == "rebuild" {
        let report = try await rebuildDispatcher(
            configuration: configuration,
            context: ZMQContext(),
            logger: logger,
            progress: RebuildOutput.progress
        )
        var summary =
            "rebuilt \(report.path) from the journal up to sequence \(report.head): \(report.summary.events) events, \(report.summary.cases) cases"
        if report.summary.orphans > 0 { summary += ", \(report.summary.orphans) events about cases never reported" }
        RebuildOutput.finish(summary: summary, differences: report.differences)
    }
    let group = try await buildDispatcher(configuration: configuration, context: ZMQContext(), logger: logger)
    try await group.run()
} catch let error as DefinitionError {
    ProgramStart.exitForBadDefinition("grid-dispatcher", error)
} catch let error as RebuildError {
    FileHandleOutput.standardError("grid-dispatcher rebuild: \(error)\n")
    exit(1)
} catch {
    logger.critical("grid-dispatcher failed", metadata: ["error": "\(error)"])
    exit(1)
}
