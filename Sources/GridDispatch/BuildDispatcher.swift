import Foundation
import GridBusClient
import GridConfiguration
import GridDistrict
import GridHTTP
import GridSchema
import GridSecurity
import Hummingbird
import Logging
import ServiceLifecycle
import ZeroMQ

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

/// Composes grid-dispatcher: the subscriber that registers and dispatches reports, the timers,
/// the HTTP API, and the publisher that delivers what they commit.
public func buildDispatcher(
    configuration: DispatcherConfiguration,
    context: ZMQContext,
    logger: Logger,
    handleSignals: Bool = true
) async throws
    -> ServiceGroup
{
    let district = try District.load(directory: configuration.districtDirectory)
    let keys = try configuration.auth.keyRing(
        load: DispatcherClients.load,
        development: [.operator],
        allows: "act on cases and switch emergency mode",
        logger: logger
    )
    try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
    let store = try WorkerStore(path: configuration.dataDirectory + "/dispatcher.sqlite", durable: true, checkpointInterval: .milliseconds(250))
    try await Dispatcher.prepare(store)
    let publisher = ReliablePublisher(store: store, bus: configuration.bus, context: context, logger: logger)
    let dispatcher = Dispatcher(
        district: district,
        assigner: Assigner(district: district, strategy: configuration.strategy, roles: ["G-01": .gridChief, "G-05": .gridChief]),
        calendar: WorkCalendar(),
        settings: try configuration.settings(catalogue: district.categories.map(\.code)),
        publisher: publisher,
        store: store,
        logger: logger
    )
    let subscriber = DurableSubscriber(
        name: "grid-dispatcher",
        endpoints: configuration.bus,
        prefixes: [Topic.prefix(forType: .incidentReported)],
        store: store,
        context: context,
        logger: logger,
        maxBatch: 500
    ) { events in try await dispatcher.handle(events) }
    let router = Router()
    DispatcherAPI(dispatcher: dispatcher, keys: keys).register(on: router)
    let app = workerApplication(
        router: router,
        program: "grid-dispatcher",
        host: configuration.httpHost,
        port: configuration.httpPort,
        dataDirectory: configuration.dataDirectory,
        logger: logger,
        readyMetadata: ["strategy": "\(configuration.strategy.rawValue)"]
    )
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
        .init(service: publisher), .init(service: subscriber),
        .init(service: TimerService(dispatcher: dispatcher, interval: configuration.timerInterval, logger: logger)),
        .init(service: app),
    ]
    if configuration.idempotencyWindow > 0 {
        services.append(.init(service: dispatcher.requestKeyRetention(window: configuration.idempotencyWindow)))
    }
    if handleSignals { services.append(.terminationSignals(logger: logger)) }
    return ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [], logger: logger))
}
