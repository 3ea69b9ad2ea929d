import GridConfiguration
import GridIntake
import GridProgram

// Signals are set up before main (CProgramSignals); start() checks it before any thread exists.
let (configuration, logger) = await ProgramStart.start(
    program: "grid-intake",
    summary: "GridBus incident intake: native JSON API and Open311 GeoReport v2 (docs/intake.md)",
    keys: IntakeConfiguration.keys,
    read: { (reader) throws(ConfigurationError) in try IntakeConfiguration(reader: reader) },
    logLevel: \.logLevel
)
await ProgramStart.run("grid-intake", dataDirectory: configuration.dataDirectory, logger: logger) { ready in
    ProgramServices(try await buildIntake(configuration: configuration, logger: logger, onReady: ready))
}
