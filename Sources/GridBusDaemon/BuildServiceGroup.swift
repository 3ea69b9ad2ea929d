import Foundation
import GridConfiguration
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import ZeroMQ

/// Composes gridbusd: the bus, its HTTP endpoints and the signal handler, in dependency order
/// (graceful shutdown runs in reverse: signals, HTTP, then the bus drains).
///
/// When both the bus and HTTP are up, writes `<data-dir>/gridbusd.ready` (JSON with the bound
/// endpoints and HTTP port), so that scripts and tests can use `*` ports and find them.
public func buildServiceGroup(
    configuration: BusConfiguration,
    context: ZMQContext,
    registry: PrometheusCollectorRegistry,
    logger: Logger,
    handleSignals: Bool = true
) -> (group: ServiceGroup, daemon: BusDaemon) {
    let daemon = BusDaemon(
        configuration: configuration,
        context: context,
        metricsFactory: PrometheusMetricsFactory(registry: registry),
        logger: logger
    )
    let router = Router()
    HTTPEndpoints(daemon: daemon, registry: registry).register(on: router)
    let readyFile = configuration.dataDirectory + "/gridbusd.ready"
    try? FileManager.default.removeItem(atPath: readyFile)
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
            if let data = try? JSONEncoder().encode(ready) {
                _ = FileManager.default.createFile(atPath: readyFile + ".tmp", contents: data)
                _ = rename(readyFile + ".tmp", readyFile)
            }
            logger.notice("gridbusd ready", metadata: ["http": "\(ready.http)", "ready.file": "\(readyFile)"])
        },
        logger: logger
    )
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: daemon), .init(service: app)]
    if handleSignals {
        services.append(
            .init(
                service: TerminationSignalService { signal in
                    logger.notice("signal received; shutting down", metadata: ["signal": "\(signal == SIGTERM ? "SIGTERM" : "SIGINT")"])
                },
                successTerminationBehavior: .gracefullyShutdownGroup
            )
        )
    }
    let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [], logger: logger))
    return (group, daemon)
}
