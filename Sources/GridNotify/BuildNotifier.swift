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
import Synchronization

/// The channels: the built-in webhook (when a signing secret is configured) and log file, and the
/// plugins of `channels.dir`.
func buildChannels(configuration: NotifierConfiguration, logger: Logger) throws -> [any NotificationChannel] {
    var channels: [any NotificationChannel] = [
        FileChannel(path: configuration.logFile.isEmpty ? configuration.dataDirectory + "/notifications.jsonl" : configuration.logFile)
    ]
    if !configuration.webhookSecretFile.isEmpty {
        let secret = try readSecret(configuration.webhookSecretFile)
        let url = configuration.webhookURL.isEmpty ? nil : URL(string: configuration.webhookURL)
        if !configuration.webhookURL.isEmpty && url == nil {
            throw DefinitionError(file: "configuration", field: "webhook.url", reason: "'\(configuration.webhookURL)' is not a URL")
        }
        channels.append(
            WebhookChannel(url: url, secret: Array(secret.utf8), timeout: configuration.webhookTimeout, concurrency: configuration.webhookConcurrency)
        )
    } else {
        logger.warning("no webhook.secret-file: the webhook channel is off (webhooks are always signed)")
    }
    for channel in try ExecChannelManifest.loadAll(directory: configuration.channelsDirectory, logger: logger) {
        guard !channels.contains(where: { $0.name == channel.name }) else {
            throw DefinitionError(
                file: configuration.channelsDirectory + "/\(channel.name).yaml",
                field: "name",
                reason: "'\(channel.name)' is a built-in channel"
            )
        }
        channels.append(channel)
    }
    return channels
}

/// The signing secret: a file only its owner may read, at least 16 bytes (a trailing newline dropped).
func readSecret(_ path: String) throws -> String {
    try CurveCertificate.checkPrivate(path)
    guard var secret = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw DefinitionError(file: path, field: "", reason: "cannot read the webhook secret")
    }
    while secret.hasSuffix("\n") || secret.hasSuffix("\r") { secret.removeLast() }
    guard secret.utf8.count >= 16 else { throw DefinitionError(file: path, field: "", reason: "the webhook secret must be at least 16 bytes") }
    return secret
}

/// Composes grid-notifier: the subscription that plans notices, the delivery loop, the HTTP API,
/// and the runtime's publisher of `notification.*`.
public func buildNotifier(
    configuration: NotifierConfiguration,
    logger: Logger,
    metrics: DescribedMetricsFactory = DescribedMetricsFactory(),
    onReady: @escaping ReadyHandler = { _ in },
    lease: WorkerLease? = nil
) async throws -> [any Service] {
    let district = try District.load(directory: configuration.districtDirectory)
    let keys = try configuration.auth.keyRing(
        load: NotifierClients.load,
        development: NotifierAccess(),
        allows: "silence notifications and read the log",
        logger: logger
    )
    try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
    let channels = try buildChannels(configuration: configuration, logger: logger)
    let rules = configuration.rulesFile.isEmpty ? NotifierRules() : try NotifierRules.load(configuration.rulesFile, channels: channels.map(\.name))
    let runtime = try WorkerRuntime(
        name: Notifier.source,
        bus: configuration.bus,
        store: configuration.store.location(file: configuration.dataDirectory + "/notifier.sqlite", schema: "gridbus_notifier"),
        durable: true,
        migrations: Notifier.migrations,
        lease: lease,
        metrics: metrics,
        logger: logger
    )
    let notifier = Notifier(district: district, rules: rules, channels: channels, runtime: runtime, logger: logger)
    try await notifier.recoverSendsInDoubt()
    let queue = DeliveryQueue()
    runtime.subscribe(prefixes: ["incident.", Topic.prefix(forType: .gridModeChanged)], maxBatch: 500) { events in
        // What falls due at once is claimed in the commit that planned it and handed over to be
        // sent; most events plan nothing and wake nothing.
        let reserved = queue.reserve()
        var heard = Notifier.Heard(planned: 0, claimed: [])
        defer { queue.settle(reserved: reserved, claimed: heard.claimed.count, noticesDue: heard.planned > 0) }
        heard = try await notifier.handle(events, claimingUpTo: reserved)
        queue.hand(heard.claimed)
    }
    let router = workerRouter(context: NotifierAPI.Context.self)
    router.addWorkerRoutes(metrics: metrics, scrape: [runtime.metricsText, notifier.metricsText], openAPI: NotifierOpenAPI.json)
    NotifierAPI(notifier: notifier).register(on: router.group("/v1").add(middleware: APIKeyAuthenticator(keys: keys)))
    let app = workerApplication(
        router: router,
        program: Notifier.source,
        host: configuration.httpHost,
        port: configuration.httpPort,
        logger: logger,
        onReady: onReady,
        readyMetadata: ["channels": "\(channels.map(\.name).joined(separator: ","))"]
    )
    var services: [any Service] = [DeliveryService(notifier: notifier, interval: configuration.deliveryInterval, queue: queue, logger: logger), app]
    if configuration.notificationLogMaxAge > 0 { services.append(notifier.logRetention(maxAge: configuration.notificationLogMaxAge)) }
    return runtime.services(services)
}
