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
import NIOCore
import ServiceLifecycle

/// Composes grid-intake: the HTTP API, the runtime's publisher that delivers what the API stored,
/// and the subscription that follows each incident's lifecycle; graceful shutdown stops HTTP first,
/// so that every accepted report is in the store before the publisher drains.
///
/// Loads the district and the API keys first: a mistake in either stops the intake before it
/// listens (the error names the file, the row or feature, and the field).
public func buildIntake(
    configuration: IntakeConfiguration,
    logger: Logger,
    metrics: DescribedMetricsFactory = DescribedMetricsFactory(),
    onReady: @escaping ReadyHandler = { _ in },
    lease: WorkerLease? = nil
) async throws -> [any Service] {
    let district = try District.load(directory: configuration.districtDirectory)
    let keys = try configuration.auth.keyRing(load: IntakeClients.load, development: .other, allows: "report and read incidents", logger: logger)
    try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
    let runtime = try WorkerRuntime(
        name: Intake.source,
        bus: configuration.bus,
        store: configuration.store.location(file: configuration.dataDirectory + "/intake.sqlite", schema: "gridbus_intake"),
        durable: true,  // an answered report survives a power loss, not only a crash of the intake
        migrations: Intake.migrations,
        lease: lease,
        metrics: metrics,
        logger: logger
    )
    let intake = Intake(district: district, runtime: runtime, logger: logger)
    runtime.subscribe(
        // Every lifecycle type but its own reports: those would only come back to be ignored.
        prefixes: EventType.allCases.filter { $0.rawValue.hasPrefix("incident.") && $0 != .incidentReported }.map { Topic.prefix(forType: $0) },
        maxBatch: 500,
        catchUpEvery: Intake.followBatch
    ) { events in try await intake.follow(events) }

    let router = workerRouter(context: NativeAPI.Context.self)
    router.addWorkerRoutes(metrics: metrics, scrape: [runtime.metricsText, intake.metricsText], openAPI: IntakeOpenAPI.json) {
        ["status": "ok", "grids": "\(district.grids.count)", "categories": "\(district.categories.count)"]
    }
    NativeAPI(intake: intake, keys: keys, maxBodySize: configuration.maxBodySize)
        .register(on: router.group("/v1").add(middleware: APIKeyAuthenticator(keys: keys)))
    // Open311 takes its key as a form field (`api_key`), as the standard says: checked by its POST.
    Open311API(intake: intake, keys: keys, maxBodySize: configuration.maxBodySize, now: Date.init).register(on: router)
    let app = workerApplication(
        router: router,
        program: Intake.source,
        host: configuration.httpHost,
        port: configuration.httpPort,
        logger: logger,
        onReady: onReady,
        readyMetadata: [
            "district.grids": "\(district.grids.count)", "district.categories": "\(district.categories.count)",
            "bus.ingress": "\(configuration.bus.ingress)",
        ]
    )
    return runtime.services([app])
}
