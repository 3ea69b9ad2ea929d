import Foundation
import Synchronization
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

/// Sends what is due, fires reminders, and waits `interval` when there was nothing to do.
struct DeliveryService: Service {
    let notifier: Notifier
    let interval: Double
    let doorbell: Doorbell
    let logger: Logger
    /// Messages in flight at once, over all channels (each channel also keeps its own limit).
    var maxInFlight = 64

    /// Claims what is due whenever the doorbell rings (new notices were taken in, or a message
    /// finished) and at least every `interval` (retries, group waits and reminders fall due with
    /// time alone); each message is sent and recorded on its own, so that one slow receiver holds
    /// up no other message.
    func run() async throws {
        let doorbell = self.doorbell
        let interval = self.interval
        let inFlight = InFlight()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                        doorbell.ring()
                    }
                }
                var lastSweep = Date.distantPast
                for await _ in doorbell.rings {
                    if Task.isCancelled { break }
                    do {
                        // Every interval, not every second: reminders then leave as they fall due
                        // instead of a second's worth at once ahead of new notices.
                        if Date().timeIntervalSince(lastSweep) >= interval {
                            try await notifier.sweepReminders()
                            lastSweep = Date()
                        }
                        for batch in try await notifier.claimDue(limit: maxInFlight - inFlight.count.load(ordering: .relaxed)) {
                            inFlight.count.add(1, ordering: .relaxed)
                            group.addTask {
                                do { try await notifier.deliver(batch) } catch {
                                    // Still `sending` in the store: sent again whole, under its id, after a restart.
                                    logger.error("recording a delivery failed", metadata: ["message": "\(batch.messageId)", "error": "\(error)"])
                                }
                                inFlight.count.subtract(1, ordering: .relaxed)
                                doorbell.ring()
                            }
                        }
                    } catch {
                        logger.error("delivery round failed; retrying", metadata: ["error": "\(error)"])
                    }
                }
                group.cancelAll()
            }
        }
    }
}

/// Messages being sent now (a class: an `Atomic` is shared by reference, not copied into tasks).
final class InFlight: Sendable {
    let count = Atomic<Int>(0)
}

/// Wakes the delivery loop: rings coalesce (at most one waits), so ringing never blocks or grows.
final class Doorbell: Sendable {
    let rings: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() { (rings, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1)) }

    func ring() { continuation.yield() }
}

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
            throw DefinitionError(file: configuration.channelsDirectory + "/\(channel.name).yaml", field: "name", reason: "'\(channel.name)' is a built-in channel")
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

/// Composes grid-notifier: the subscriber that plans notices, the delivery loop, the HTTP API, and
/// the publisher of `notification.*`.
public func buildNotifier(configuration: NotifierConfiguration, context: ZMQContext, logger: Logger, handleSignals: Bool = true) async throws
    -> ServiceGroup
{
    let district = try District.load(directory: configuration.districtDirectory)
    let keys = try configuration.auth.keyRing(
        load: NotifierClients.load, development: NotifierAccess(), allows: "silence notifications and read the log", logger: logger
    )
    try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
    let channels = try buildChannels(configuration: configuration, logger: logger)
    let rules = configuration.rulesFile.isEmpty ? NotifierRules() : try NotifierRules.load(configuration.rulesFile, channels: channels.map(\.name))
    let store = try WorkerStore(path: configuration.dataDirectory + "/notifier.sqlite", durable: true, checkpointInterval: .milliseconds(250))
    try await Notifier.prepare(store)
    let publisher = ReliablePublisher(store: store, endpoint: configuration.bus.ingress, credentials: configuration.bus.credentials, context: context, logger: logger)
    let notifier = Notifier(district: district, rules: rules, channels: channels, publisher: publisher, store: store, logger: logger)
    let doorbell = Doorbell()
    let subscriber = DurableSubscriber(
        name: Notifier.source,
        endpoints: configuration.bus,
        prefixes: ["incident.", Topic.prefix(forType: .gridModeChanged)],
        store: store,
        context: context,
        logger: logger,
        maxBatch: 500
    ) { events in
        // Most events only update what is known of a case: the delivery loop is woken when there
        // is something to send (a notice without a group wait is due now), not for every event.
        if try await notifier.handle(events) > 0 { doorbell.ring() }
    }
    let router = Router()
    NotifierAPI(notifier: notifier, keys: keys).register(on: router)
    let app = workerApplication(
        router: router, program: "grid-notifier", host: configuration.httpHost, port: configuration.httpPort, dataDirectory: configuration.dataDirectory,
        logger: logger, readyMetadata: ["channels": "\(channels.map(\.name).joined(separator: ","))"]
    )
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
        .init(service: publisher), .init(service: subscriber),
        .init(service: DeliveryService(notifier: notifier, interval: configuration.deliveryInterval, doorbell: doorbell, logger: logger)), .init(service: app),
    ]
    if handleSignals { services.append(.terminationSignals(logger: logger)) }
    return ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [], logger: logger))
}
