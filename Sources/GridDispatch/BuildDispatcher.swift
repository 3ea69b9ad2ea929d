import Foundation
import GridBusClient
import GridConfiguration
import GridDistrict
import GridHTTP
import GridMetrics
import GridSchema
import GridSecurity
import Hummingbird
import Logging
import ServiceLifecycle

/// Fires the dispatcher's due timers at an interval, until shutdown.
struct TimerService: Service {
    let dispatcher: Dispatcher
    let interval: Double
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await dispatcher.sweep() } catch { logger.error("timer sweep failed; retrying", metadata: ["error": "\(error)"]) }
                try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            }
        }
    }
}

/// Composes grid-dispatcher: the subscription that registers and dispatches reports, the timers,
/// the HTTP API, and the runtime's publisher that delivers what they commit.
public func buildDispatcher(
    configuration: DispatcherConfiguration,
    logger: Logger,
    metrics: DescribedMetricsFactory = DescribedMetricsFactory(),
    onReady: @escaping ReadyHandler = { _ in },
    lease: WorkerLease? = nil
) async throws -> [any Service] {
    let district = try District.load(directory: configuration.districtDirectory)
    let keys = try configuration.auth.keyRing(
        load: DispatcherClients.load,
        development: [.operator],
        allows: "act on cases and switch emergency mode",
        logger: logger
    )
    try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
    let runtime = try WorkerRuntime(
        name: Dispatcher.source,
        bus: configuration.bus,
        store: configuration.store.location(file: configuration.dataDirectory + "/dispatcher.sqlite", schema: "gridbus_dispatcher"),
        durable: true,
        migrations: Dispatcher.migrations,
        lease: lease,
        metrics: metrics,
        logger: logger
    )
    let dispatcher = Dispatcher(
        district: district,
        assigner: Assigner(district: district, strategy: configuration.strategy, roles: ["G-01": .gridChief, "G-05": .gridChief]),
        calendar: WorkCalendar(),
        settings: try configuration.settings(catalogue: district.categories.map(\.code)),
        runtime: runtime,
        logger: logger
    )
    runtime.subscribe(prefixes: [Topic.prefix(forType: .incidentReported)], maxBatch: 500) { events in try await dispatcher.handle(events) }
    let router = workerRouter(context: DispatcherAPI.Context.self)
    router.addWorkerRoutes(metrics: metrics, scrape: [runtime.metricsText, dispatcher.metricsText], openAPI: DispatcherOpenAPI.json)
    DispatcherAPI(dispatcher: dispatcher).register(on: router.group("/v1").add(middleware: APIKeyAuthenticator(keys: keys)))
    let app = workerApplication(
        router: router,
        program: Dispatcher.source,
        host: configuration.httpHost,
        port: configuration.httpPort,
        logger: logger,
        onReady: onReady,
        readyMetadata: ["strategy": "\(configuration.strategy.rawValue)"]
    )
    var services: [any Service] = [TimerService(dispatcher: dispatcher, interval: configuration.timerInterval, logger: logger)]
    if configuration.idempotencyWindow > 0 { services.append(dispatcher.requestKeyRetention(window: configuration.idempotencyWindow)) }
    return runtime.services(services + [app])
}
