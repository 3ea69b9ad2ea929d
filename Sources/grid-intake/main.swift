import GridConfiguration
import GridIntake
import Logging
import ServiceLifecycle
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

// Before any thread exists (libzmq's, NIO's): SIGINT/SIGTERM go to one signal thread only.
TerminationSignals.block()

let arguments = CommandLine.arguments
if arguments.contains("--help") || arguments.contains("-h") {
    print(
        GridConfigReader.helpText(
            program: "grid-intake",
            summary: "GridBus incident intake: native JSON API and Open311 GeoReport v2 (docs/intake.md)",
            usage: "grid-intake [--config FILE] [--KEY VALUE ...]",
            keys: IntakeConfiguration.keys
        )
    )
    exit(0)
}

let configuration: IntakeConfiguration
do {
    configuration = try IntakeConfiguration(reader: try await GridConfigReader.load(arguments: arguments, keys: IntakeConfiguration.keys))
} catch {
    FileHandleOutput.standardError("grid-intake: \(error)\n")
    exit(2)
}

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
    return handler
}
let logger = Logger(label: "grid-intake")
do {
    let group = try await buildIntake(configuration: configuration, context: ZMQContext(), logger: logger)
    try await group.run()
} catch let error as DefinitionError {
    FileHandleOutput.standardError("grid-intake: \(error)\n")
    exit(2)
} catch {
    logger.critical("grid-intake failed", metadata: ["error": "\(error)"])
    exit(1)
}
