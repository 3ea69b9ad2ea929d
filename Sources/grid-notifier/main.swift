import Foundation
import GridConfiguration
import GridNotify
import Logging
import ServiceLifecycle
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

// Signals are set up before main (CProcessSetup); start() checks it before any thread exists.
let (configuration, logger) = await ProgramStart.start(
    program: "grid-notifier",
    summary: "GridBus notifier: who hears what, through which channel, once per state change (docs/notifier.md)",
    keys: NotifierConfiguration.keys,
    read: { (reader) throws(ConfigurationError) in try NotifierConfiguration(reader: reader) },
    logLevel: \.logLevel
)
do {
    let group = try await buildNotifier(configuration: configuration, context: ZMQContext(), logger: logger)
    try await group.run()
} catch let error as DefinitionError {
    ProgramStart.exitForBadDefinition("grid-notifier", error)
} catch {
    logger.critical("grid-notifier failed", metadata: ["error": "\(error)"])
    exit(1)
}
