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
        let interactive = isatty(STDERR_FILENO) == 1
        let report = try await rebuildDispatcher(configuration: configuration, context: ZMQContext(), logger: logger) { sequence, head in
            guard interactive, head > 0 else { return }
            FileHandleOutput.standardError("\rrebuilding: \(sequence) of \(head) (\(sequence * 100 / head)%)")
        }
        if interactive { FileHandleOutput.standardError("\n") }
        var output = "rebuilt \(report.path) from the journal up to sequence \(report.head): \(report.summary.events) events, \(report.summary.cases) cases"
        if report.summary.orphans > 0 { output += ", \(report.summary.orphans) events about cases never reported" }
        output += "\n"
        switch report.differences {
        case nil: output += "no live store to compare with\n"
        case let differences? where differences.isEmpty: output += "equal to the live store\n"
        case let differences?: output += "differs from the live store:\n" + differences.map { "  \($0)\n" }.joined()
        }
        FileHandleOutput.standardOutput(output)
        exit(report.differences?.isEmpty == false ? 1 : 0)
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
