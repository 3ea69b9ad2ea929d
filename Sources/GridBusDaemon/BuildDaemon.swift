import Foundation
import GridConfiguration
import GridMetrics
import GridPlugins
import GridSecurity
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import ZeroMQ

/// gridbusd's parts, composed: what to run, the bus itself, and what a SIGHUP does.
public struct BusDaemonServices: Sendable {
    /// In dependency order: the bus, the plugin supervisor, the HTTP endpoints (a graceful
    /// shutdown runs in reverse: HTTP, then the plugins stop, then the bus drains what they published).
    public let services: [any Service]
    public let daemon: BusDaemon
    /// Reads the access file again (identities and their topics), as SIGHUP asks.
    public let reloadAccess: @Sendable () -> Void
}

/// Composes gridbusd: the bus, the plugin supervisor and the HTTP endpoints.
///
/// Loads keys, the access file and the plugin manifests first, so that a mistake in any of them
/// stops gridbusd before it binds anything: the error names the file and the field.
///
/// When both the bus and HTTP are up, tells `onReady` the bound endpoints and HTTP address (the
/// program writes them to `<data-dir>/gridbusd.ready`, so that scripts and tests can use `*` ports
/// and find them).
public func buildDaemon(
    configuration: BusConfiguration,
    context: ZMQContext,
    registry: PrometheusCollectorRegistry,
    logger: Logger,
    onReady: @escaping ReadyHandler = { _ in }
) throws(DefinitionError) -> BusDaemonServices {
    let metricsFactory = DescribedMetricsFactory(registry: registry, help: BusMetrics.help)
    metricsFactory.describe(SecurityMetrics.help)
    metricsFactory.describe(PluginBoard.help)
    let security = try BusSecurity(configuration: configuration, metricsFactory: metricsFactory)
    let manifests =
        try configuration.pluginsDirectory.map { directory throws(DefinitionError) in
            try PluginManifest.loadDirectory(directory, skipInvalid: configuration.skipInvalidPlugins) { skipped in
                logger.error("plugin manifest skipped (plugins.skip-invalid is on)", metadata: ["error": "\(skipped)"])
            }
        } ?? []
    let board = PluginBoard(names: manifests.map(\.name), factory: metricsFactory)
    let daemon = BusDaemon(
        configuration: configuration,
        context: context,
        security: security,
        plugins: manifests.isEmpty ? nil : board,
        metricsFactory: metricsFactory,
        logger: logger
    )
    // Plugins start once the sockets are bound, with the endpoints actually bound.
    let supervisor = PluginSupervisor(manifests: manifests, board: board, logger: logger) {
        guard let bound = await daemon.boundEndpoints() else { return nil }
        return PluginEnvironment(
            ingress: bound.ingress,
            egress: bound.egress,
            replay: bound.replay,
            serverKeyFile: security.publicKeyFile,
            dataDirectory: configuration.dataDirectory + "/plugins"
        )
    }
    let router = Router()
    HTTPEndpoints(daemon: daemon, registry: registry).register(on: router)
    let app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "gridbusd"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.httpPort
            guard let endpoints = await daemon.boundEndpoints() else { return }
            let ready = ListeningAddresses(
                http: "http://\(configuration.httpHost):\(port)",
                ingress: endpoints.ingress,
                egress: endpoints.egress,
                replay: endpoints.replay
            )
            onReady(ready)
            logger.notice("gridbusd ready", metadata: ["http": "\(ready.http)"])
        },
        logger: logger
    )
    return BusDaemonServices(services: [daemon, supervisor, app], daemon: daemon) {
        logger.notice("SIGHUP received; reloading the access policy")
        security.reload(logger: logger)
    }
}
