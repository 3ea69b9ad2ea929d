import GridConfiguration
import GridDispatch
import Logging
import ServiceLifecycle
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

// Signals are set up before main (CProcessSetup); start() checks it before any thread exists.
let (configuration, logger) = await ProgramStart.start(
    program: "grid-dispatcher",
    summary: "GridBus dispatcher: registration, assignment, handler actions, time limits (docs/dispatcher.md)",
    keys: DispatcherConfiguration.keys,
    read: { (reader) throws(ConfigurationError) in try DispatcherConfiguration(reader: reader) },
    logLevel: \.logLevel
)
do {
    let group = try await buildDispatcher(configuration: configuration, context: ZMQContext(), logger: logger)
    try await group.run()
} catch let error as DefinitionError {
    ProgramStart.exitForBadDefinition("grid-dispatcher", error)
} catch {
    logger.critical("grid-dispatcher failed", metadata: ["error": "\(error)"])
    exit(1)
}
