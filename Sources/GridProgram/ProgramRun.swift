import Foundation
import GridConfiguration
import Logging
import ServiceLifecycle
import Synchronization

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

/// How an instance that may be a standby waits before it builds anything: `wait` returns once it
/// may run (it holds its store's lease), and calls the handler it gets when it finds another
/// instance active; `serving` answers meanwhile (the standby's HTTP server); `epoch` is the
/// lease's epoch once held. The program reports both to its supervisor (``ServiceNotification``).
public struct ProgramStandby: Sendable {
    public typealias Wait = @Sendable (_ waiting: @escaping @Sendable () -> Void) async throws -> Void
    public var wait: Wait
    public var serving: any Service
    public var epoch: @Sendable () -> Int64

    public init(serving: any Service, wait: @escaping Wait, epoch: @escaping @Sendable () -> Int64) {
        self.wait = wait
        self.serving = serving
        self.epoch = epoch
    }

    /// Nil for nil: a program whose instance never waits.
    public init?(_ parts: (serving: any Service, wait: Wait, epoch: @Sendable () -> Int64)?) {
        guard let parts else { return nil }
        self.init(serving: parts.serving, wait: parts.wait, epoch: parts.epoch)
    }
}

extension ProgramStart {
    /// Builds a program's services and runs them until SIGINT or SIGTERM stops them gracefully.
    ///
    /// `build` gets the handler that writes `<dataDirectory>/<program>.ready` once the program
    /// listens, and tells its supervisor (``ServiceNotification``). A definition file that is
    /// wrong (keys, manifests, the district) exits 2 with the file, field and reason; a service
    /// that fails exits 1; a graceful stop returns.
    ///
    /// With `standby`, the program first waits (serving `standby.serving`) until `standby.wait`
    /// returns; SIGINT or SIGTERM meanwhile stops it, and a failure exits 1.
    public static func run(
        _ program: String,
        dataDirectory: String,
        logger: Logger,
        standby: ProgramStandby? = nil,
        build: (@escaping ReadyHandler) async throws -> ProgramServices
    ) async {
        if let standby, !(await waitAsStandby(program, standby, logger: logger)) { return }
        let readyFile = ReadyFile(directory: dataDirectory, program: program)
        let built: ProgramServices
        do {
            built = try await build { addresses in
                readyFile.write(addresses)
                ServiceNotification.send(ServiceNotification.ready(epoch: standby?.epoch()))
            }
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

    /// Runs the standby's server and its wait, and the signals, until the wait returns (true) or a
    /// signal stops the program (false).
    private static func waitAsStandby(_ program: String, _ standby: ProgramStandby, logger: Logger) async -> Bool {
        let waited = Waited { try await standby.wait { ServiceNotification.send(ServiceNotification.standby) } }
        let signals = TerminationSignalService(onHangup: nil) { _ in logger.notice("signal received while a standby; stopping") }
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: signals, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: standby.serving),
                    .init(service: waited, successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            logger.critical("\(program) failed while a standby", metadata: ["error": "\(error)"])
            exit(1)
        }
        return waited.done.withLock { $0 }
    }
}

/// Runs `wait` until it returns (then records it) or a graceful shutdown cancels it.
private final class Waited: Service, Sendable {
    let wait: @Sendable () async throws -> Void
    let done = Mutex(false)
    init(wait: @escaping @Sendable () async throws -> Void) { self.wait = wait }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await self.wait() }
            done.withLock { $0 = true }
        } catch is CancellationError {}
    }
}
