import GridSchema
import Logging
import ServiceLifecycle
import ZeroMQ

/// gridbusd's plugin supervisor as a service: waits for the bus, runs the plugins, and on graceful
/// shutdown stops them (in reverse order) before the bus drains. See docs/plugins.md.
public final class PluginSupervisor: Service, CustomStringConvertible, Sendable {
    public let description = "PluginSupervisor"
    public let manifests: [PluginManifest]
    public let board: PluginBoard
    private let environment: @Sendable () async -> PluginEnvironment?
    private let logger: Logger

    /// - Parameter environment: waits for the bus to be up; nil means it never came up (start nothing).
    public init(
        manifests: [PluginManifest],
        board: PluginBoard,
        logger: Logger,
        environment: @escaping @Sendable () async -> PluginEnvironment?
    ) {
        self.manifests = manifests
        self.board = board
        self.environment = environment
        self.logger = logger
    }

    public func run() async throws {
        // Returning early would stop the service group: with nothing to run, wait like the others.
        guard !manifests.isEmpty, let environment = await environment() else {
            try? await gracefulShutdown()
            return
        }
        let stop = StopFlag()
        let wakeup = ZMQWakeup()
        let loop = SupervisorLoop(manifests: manifests, environment: environment, board: board, logger: logger, stop: stop, wakeup: wakeup)
        let thread = ZMQThread(name: "gridbusd-plugins") { loop.run() }
        try? await gracefulShutdown()
        logger.info("stopping plugins", metadata: ["plugins": "\(manifests.count)"])
        stop.set()
        wakeup.signal()
        await thread.join()
    }
}
