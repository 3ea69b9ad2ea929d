import Foundation
import GridConfiguration
import Logging
import ServiceLifecycle

/// What a program runs: its services in dependency order (a graceful shutdown stops them in
/// reverse), and what SIGHUP does (nothing given: it stops the program like SIGTERM).
public struct ProgramServices {
    public var services: [any Service]
    public var onHangup: (@Sendable () -> Void)?

    public init(_ services: [any Service], onHangup: (@Sendable () -> Void)? = nil) {
        self.services = services
        self.onHangup = onHangup
    }
}

extension ProgramStart {
    /// Builds a program's services and runs them until SIGINT or SIGTERM stops them gracefully.
    ///
    /// `build` gets the handler that writes `<dataDirectory>/<program>.ready` once the program
    /// listens. A definition file that is wrong (keys, manifests, the district) exits 2 with the
    /// file, field and reason; a service that fails exits 1; a graceful stop returns.
    public static func run(
        _ program: String,
        dataDirectory: String,
        logger: Logger,
        build: (@escaping ReadyHandler) async throws -> ProgramServices
    ) async {
        let readyFile = ReadyFile(directory: dataDirectory, program: program)
        let built: ProgramServices
        do {
            built = try await build { readyFile.write($0) }
        } catch let error as DefinitionError {
            exitForBadDefinition(program, error)
        } catch {
            logger.critical("\(program) failed", metadata: ["error": "\(error)"])
            exit(1)
        }
        let signals = TerminationSignalService(onHangup: built.onHangup) { signal in
            logger.notice(
                "signal received; shutting down",
                metadata: ["signal": "\(signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "\(signal)")"]
            )
        }
        let services = built.services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        let group = ServiceGroup(
            configuration: .init(
                services: services + [.init(service: signals, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            logger.critical("\(program) failed", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}
