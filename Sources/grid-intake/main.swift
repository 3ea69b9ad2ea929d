import GridConfiguration
import GridIntake
import Logging
import ServiceLifecycle
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

// Signals are set up before main (CProcessSetup); start() checks it before any thread exists.
let (configuration, logger) = await ProgramStart.start(
    program: "grid-intake",
    summary: "GridBus incident intake: native JSON API and Open311 GeoReport v2 (docs/intake.md)",
    keys: IntakeConfiguration.keys,
    read: { (reader) throws(ConfigurationError) in try IntakeConfiguration(reader: reader) },
    logLevel: \.logLevel
)
do {
    let group = try await buildIntake(configuration: configuration, context: ZMQContext(), logger: logger)
    try await group.run()
} catch let error as DefinitionError {
    ProgramStart.exitForBadDefinition("grid-intake", error)
} catch {
    logger.critical("grid-intake failed", metadata: ["error": "\(error)"])
    exit(1)
}
