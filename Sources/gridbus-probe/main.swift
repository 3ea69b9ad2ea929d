import ArgumentParser
import Foundation
import GridBusClient
import GridConfiguration
import GridProgram
import GridSchema
import GridStore
import Logging
import ServiceLifecycle

/// `gridbus-probe`: the worker runtime as two small processes, for end-to-end checks and
/// benchmarks — a reliable publisher of numbered events and a durable subscriber that records
/// what it saw in its own SQLite store (table `seen`).
struct Probe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridbus-probe",
        abstract: "Publish or follow numbered test events through the worker runtime.",
        subcommands: [PublishProbe.self, SubscribeProbe.self]
    )
}

struct PublishProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish --count events (ids PREFIX-0…) through a durable outbox; exit when all are ACKed."
    )

    @Option var ingress = BusEndpoints().ingress
    @Option(help: "The worker store (outbox).") var store: String
    @Option var count: Int
    @Option(help: "CloudEvent source.") var source = "gridbus-probe"
    @Option(help: "Event id prefix.") var idPrefix = "e"
    @Option(help: "Events per outbox transaction.") var batch = 500
    @Option(help: "Bytes of padding in each event's data.") var padding = 0
    @Option(help: "Events per second handed to the outbox at most (default: as fast as it takes them).") var rate: Double?

    func run() async throws {
        let logger = Logger(label: "gridbus-probe")
        let started = ContinuousClock.now
        let runtime = try WorkerRuntime(
            name: source,
            bus: BusEndpoints(ingress: ingress),
            store: .sqlite(path: store),
            checkpointInterval: nil,
            migrations: Migrations(),
            logger: logger
        )
        let group = ServiceGroup(services: runtime.services([]), logger: logger)
        let pad = String(repeating: "x", count: padding)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for start in stride(from: 0, to: count, by: batch) {
                if let rate { try await Task.sleep(until: started + .seconds(Double(start) / rate)) }
                let events = try (start..<min(start + batch, count)).map { n in
                    try CloudEvent(
                        id: "\(idPrefix)-\(n)",
                        source: source,
                        payload: IncidentAcknowledged(incidentId: "inc-\(n)", by: "probe", note: pad.isEmpty ? nil : pad),
                        grid: "G-\(n % 7)"
                    )
                }
                try await runtime.write { _, outbox in for event in events { try outbox.enqueue(event) } }
            }
            while try await runtime.undeliveredCount() > 0 { try await Task.sleep(for: .milliseconds(50)) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

struct SubscribeProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Follow the bus durably; record every event id in the store's 'seen' table."
    )

    @Option var egress = BusEndpoints().egress
    @Option var replay = BusEndpoints().replay
    @Option(help: "The worker store (cursor and 'seen').") var store: String
    @Option var name = "probe"
    @Option(help: "Topic prefix to follow (repeatable).") var prefix: [String] = []
    @Option(help: "Exit once this many distinct events were seen.") var expect: Int?

    func run() async throws {
        TerminationSignals.block()
        var logger = Logger(label: "gridbus-probe")
        logger.logLevel = .notice
        var migrations = Migrations()
        migrations.register(
            "probe 1 seen",
            sql: "CREATE TABLE seen (id TEXT PRIMARY KEY, sequence INTEGER NOT NULL, deliveries INTEGER NOT NULL DEFAULT 1)"
        )
        let runtime = try WorkerRuntime(
            name: name,
            bus: BusEndpoints(egress: egress, replay: replay),
            store: .sqlite(path: store),
            checkpointInterval: nil,
            migrations: migrations,
            publishes: false,
            logger: logger
        )
        runtime.subscribe(prefixes: prefix) { events in
            let seen = try events.map { (id: try $0.decode().id, sequence: $0.sequence) }
            try await runtime.write(durable: false) { connection, _ in
                let insert = try connection.prepare(
                    "INSERT INTO seen (id, sequence) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET deliveries = deliveries + 1"
                )
                for event in seen {
                    insert.bind(event.id, at: 1)
                    insert.bind(Int64(event.sequence), at: 2)
                    try insert.run()
                }
            }
        }
        let signals = TerminationSignalService()
        let group = ServiceGroup(
            configuration: .init(
                services: runtime.services([]).map { .init(service: $0) } + [
                    .init(service: signals, successTerminationBehavior: .gracefullyShutdownGroup)
                ],
                logger: logger
            )
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            if let expect {
                while try await runtime.read({ try $0.scalar("SELECT COUNT(*) FROM seen") }) < expect {
                    try await Task.sleep(for: .milliseconds(100))
                }
                await group.triggerGracefulShutdown()
            }
            try await tasks.waitForAll()
        }
    }
}

/// Calls the async `run()` (on an existential the synchronous requirement would win).
func runAsync(_ command: inout some AsyncParsableCommand) async throws { try await command.run() }

do {
    var command = try Probe.parseAsRoot()
    if var asyncCommand = command as? any AsyncParsableCommand { try await runAsync(&asyncCommand) } else { try command.run() }
} catch {
    Probe.exit(withError: error)
}
