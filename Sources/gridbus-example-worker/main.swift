import GridBusClient
import GridConfiguration
import GridSchema
import GridStore
import Logging
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

// A worker written on GridBusClient alone, as docs/architecture.md ("Writing a worker") shows: it
// keeps the reports it heard, with their grid, in a table of its own. It is also the proof that the libraries
// take no process-wide action: SIGTERM and SIGINT reach swift-service-lifecycle's handler, which
// this program chose, and stop it gracefully (tested by IntegrationTests/ExampleWorkerTests).
//
//   gridbus-example-worker --bus-egress tcp://127.0.0.1:7601 --bus-replay tcp://127.0.0.1:7602 --store var/example.sqlite

let keys = BusEndpoints.keys + [ConfigKeySpec("store", default: "var/example-worker.sqlite", "the worker's SQLite store")]
let reader: GridConfigReader
let bus: BusEndpoints
do {
    reader = try await GridConfigReader.load(arguments: CommandLine.arguments, keys: keys)
    bus = try BusEndpoints(reader: reader)
} catch {
    print("gridbus-example-worker: \(error)")
    exit(2)
}
let logger = {
    var logger = Logger(label: "gridbus-example-worker")
    logger.logLevel = .notice
    return logger
}()

// The worker's own table: its schema's history, applied once and recorded.
var migrations = Migrations()
migrations.register("example 1 reports", sql: "CREATE TABLE reports (incident TEXT PRIMARY KEY, grid TEXT)")

let runtime = try WorkerRuntime(
    name: "example-worker",
    bus: bus,
    store: .sqlite(path: reader.string("store", default: "var/example-worker.sqlite")),
    migrations: migrations,
    publishes: false,
    logger: logger
)
runtime.subscribe(prefixes: [Topic.prefix(forType: .incidentReported)], maxBatch: 100) { events in
    // Delivery is at least once: a report heard again (after a restart) is the same row.
    let reports = try events.map { try $0.decode().payload(as: IncidentReported.self) }
    let total = try await runtime.write(durable: false) { connection, _ in
        let insert = try connection.prepare("INSERT OR IGNORE INTO reports (incident, grid) VALUES (?, ?)")
        for report in reports {
            insert.bind(report.incidentId, at: 1)
            insert.bind(report.grid, at: 2)
            try insert.run()
        }
        return try connection.scalar("SELECT COUNT(*) FROM reports")
    }
    logger.notice("reports counted", metadata: ["reports": "\(total)"])
}

// The program decides how it stops: here swift-service-lifecycle's own signal handling.
let group = ServiceGroup(services: runtime.services([]), gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
try await group.run()
logger.notice("stopped gracefully")
