import Foundation
import Logging

/// How every long-running GridBus program starts: the signal set-up checked before any thread
/// exists, `--help` from the documented keys, the configuration read strictly (a mistake exits 2
/// naming file, key and reason), and logging on stderr at the configured level.
public enum ProgramStart {
    /// Returns the configuration and the program's logger; exits for `--help` and bad configuration.
    public static func start<Configuration>(
        program: String,
        summary: String,
        keys: [ConfigKeySpec],
        arguments: [String] = CommandLine.arguments,
        read: (GridConfigReader) throws(ConfigurationError) -> Configuration,
        logLevel: (Configuration) -> String
    ) async -> (Configuration, Logger) {
        TerminationSignals.block()
        if arguments.contains("--help") || arguments.contains("-h") {
            print(GridConfigReader.helpText(program: program, summary: summary, usage: "\(program) [--config FILE] [--KEY VALUE ...]", keys: keys))
            exit(0)
        }
        let configuration: Configuration
        do {
            configuration = try read(try await GridConfigReader.load(arguments: arguments, keys: keys))
        } catch {
            FileHandleOutput.standardError("\(program): \(error)\n")
            exit(2)
        }
        let level = Logger.Level(rawValue: logLevel(configuration)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return (configuration, Logger(label: program))
    }

    /// A definition file (keys, manifests, the district) was wrong: the same exit as a bad configuration.
    public static func exitForBadDefinition(_ program: String, _ error: DefinitionError) -> Never {
        FileHandleOutput.standardError("\(program): \(error)\n")
        exit(2)
    }
}
