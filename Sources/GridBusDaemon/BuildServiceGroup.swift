import Foundation
import GridConfiguration
import GridPlugins
import GridSecurity
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import ZeroMQ

/// Composes gridbusd: the bus, the plugin supervisor, the HTTP endpoints and the signal handler, in
/// dependency order (graceful shutdown runs in reverse: signals, HTTP, plugins stop, then the bus
/// drains what they published).
///
/// Loads keys, the access file and the plugin manifests first, so that a mistake in any of them
/// stops gridbusd before it binds anything: the error names the file and the field.
///
/// When both the bus and HTTP are up, writes `<data-dir>/gridbusd.ready` (JSON with the bound
/// endpoints and HTTP port), so that scripts and tests can use `*` ports and find them.
public func buildServiceGroup(
    configuration: BusConfiguration,
    context: ZMQContext,
    registry: PrometheusCollectorRegistry,
    logger: Logger,
    handleSignals: Bool = true
) throws(DefinitionError) -> (group: ServiceGroup, daemon: BusDaemon) {
    let metricsFactory = PrometheusMetricsFactory(registry: registry)
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
    let readyFile = ReadyFile(directory: configuration.dataDirectory, program: "gridbusd")
    let app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "gridbusd"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.httpPort
            guard let endpoints = await daemon.boundEndpoints() else { return }
            struct Ready: Encodable {
                let ingress, egress, replay: String
                let http: String
                let pid: Int32
            }
            let ready = Ready(
                ingress: endpoints.ingress,
                egress: endpoints.egress,
                replay: endpoints.replay,
                http: "http://\(configuration.httpHost):\(port)",
                pid: getpid()
            )
            if let data = try? JSONEncoder().encode(ready) { readyFile.write(data) }
            logger.notice("gridbusd ready", metadata: ["http": "\(ready.http)", "ready.file": "\(readyFile.path)"])
        },
        logger: logger
    )
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: daemon), .init(service: supervisor), .init(service: app)]
    if handleSignals {
        services.append(
            .terminationSignals(logger: logger) {
                logger.notice("SIGHUP received; reloading the access policy")
                security.reload(logger: logger)
            }
        )
    }
    let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [], logger: logger))
    return (group, daemon)
}
