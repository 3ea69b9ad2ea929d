import Foundation
import GridConfiguration
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
        commands: [(name: String, summary: String)] = [],
        read: (GridConfigReader) throws(ConfigurationError) -> Configuration,
        logLevel: (Configuration) -> String
    ) async -> (Configuration, Logger) {
        TerminationSignals.block()
        if arguments.contains("--help") || arguments.contains("-h") {
            var usage = "\(program) [--config FILE] [--KEY VALUE ...]"
            for command in commands { usage += "\n       \(program) \(command.name) [--config FILE] [--KEY VALUE ...]   \(command.summary)" }
            print(GridConfigReader.helpText(program: program, summary: summary, usage: usage, keys: keys))
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

    /// Splits off a leading command word (`grid-dispatcher rebuild …`): the command, if one of
    /// `known`, and the arguments without it, for `start`.
    public static func command(_ known: [String], arguments: [String] = CommandLine.arguments) -> (command: String?, arguments: [String]) {
        guard arguments.count > 1, known.contains(arguments[1]) else { return (nil, arguments) }
        return (arguments[1], [arguments[0]] + arguments.dropFirst(2))
    }

    /// A definition file (keys, manifests, the district) was wrong: the same exit as a bad configuration.
    public static func exitForBadDefinition(_ program: String, _ error: DefinitionError) -> Never {
        FileHandleOutput.standardError("\(program): \(error)\n")
        exit(2)
    }
}
