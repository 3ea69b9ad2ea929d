import Foundation
import GridBusClient
import GridConfiguration
import GridDistrict
import GridJSON
import GridSchema
import GridStats
import GridStore
import Logging
import ZeroMQ

struct StatsRun {
    var eventsPerSecond: Double
    var queryP50: Double
    var queryP99: Double
    var queryMax: Double
    var rollupRows: Int
}

/// (n): grid-stats' fold and queries in process, on a store the size the target names: `incidents`
/// cases over 90 days of the sample district (each reported, registered and closed: three events;
/// the dispatcher's two are its steps 1 and 2, as it numbers them, or grid-stats would hold the
/// closure for the steps between), folded in batches of `Statistics.foldBatch` (5,000) as the
/// worker's durable subscriber hands them over; then `queries` indicator queries of the dashboard's
/// kinds (today, 30 days by grid, by category, by day, a town by community), each timed.
func measureStats(district: District, incidents: Int, queries: Int, workDirectory: String) async throws -> StatsRun {
    let path = workDirectory + "/stats-bench.sqlite"
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
    let runtime = try WorkerRuntime(
        name: "grid-stats",
        bus: BusEndpoints(),
        store: .sqlite(path: path),
        checkpointInterval: nil,
        migrations: Statistics.migrations,
        publishes: false,
        logger: Logger(label: "bench")
    )
    let end = Date()
    let statistics = Statistics(district: district, settings: Statistics.Settings(), runtime: runtime, logger: Logger(label: "bench"), now: { end })
    let grids = district.grids.map(\.id)
    let categories = district.categories.filter { !$0.volunteer }.map(\.code)
    var generator = SeededRandom(state: 2026)
    var batch: [[UInt8]] = []
    var folded = 0
    var elapsed: Double = 0
    func flush() async throws {
        let started = DispatchTime.now().uptimeNanoseconds
        try await statistics.ingest(batch)
        elapsed += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        folded += batch.count
        batch.removeAll(keepingCapacity: true)
    }
    for number in 0..<incidents {
        let grid = generator.pick(grids)
        let category = generator.pick(categories)
        let reported = end.addingTimeInterval(-Double(generator.next() % (90 * 86400)))
        let id = "b-\(number)"
        let stamp = { (seconds: Double) in RFC3339.format(reported.addingTimeInterval(seconds)) }
        batch.append(
            Array(
                #"{"specversion":"1.0","id":"\#(id)-r","source":"grid-intake","type":"incident.reported","time":"\#(stamp(0))","subject":"\#(id)","grid":"\#(grid)","data":{"schemaVersion":1,"incidentId":"\#(id)","category":"\#(category)","description":"b","priority":"normal","channel":"app","reportedAt":"\#(stamp(0))","grid":"\#(grid)"}}"#
                    .utf8
            )
        )
        batch.append(
            Array(
                #"{"specversion":"1.0","id":"\#(id)-1","source":"grid-dispatcher","type":"incident.registered","time":"\#(stamp(60))","subject":"\#(id)","grid":"\#(grid)","data":{"schemaVersion":1,"incidentId":"\#(id)","category":"\#(category)","grid":"\#(grid)","priority":"normal","deadline":"\#(stamp(7200))"}}"#
                    .utf8
            )
        )
        let late = generator.next() % 5 == 0
        batch.append(
            Array(
                #"{"specversion":"1.0","id":"\#(id)-2","source":"grid-dispatcher","type":"incident.closed","time":"\#(stamp(late ? 9000 : 3600))","subject":"\#(id)","grid":"\#(grid)","data":{"schemaVersion":1,"incidentId":"\#(id)","by":"c","onTime":\#(!late)}}"#
                    .utf8
            )
        )
        if batch.count >= Statistics.foldBatch { try await flush() }
    }
    try await flush()
    let rollupRows = try await runtime.read { Int(try $0.scalar("SELECT COUNT(*) FROM rollup")) }
    // The dashboard's questions, and a few an analyst would ask.
    let today = statistics.day(end)
    let monthAgo = statistics.day(end.addingTimeInterval(-29 * 86400))
    let towns = Array(Set(district.grids.map(\.town))).sorted()
    var kinds: [IndicatorQuery] = []
    kinds.append(IndicatorQuery(from: today, to: today))
    kinds.append(IndicatorQuery(from: monthAgo, to: today, by: .grid))
    kinds.append(IndicatorQuery(from: monthAgo, to: today, by: .category))
    kinds.append(IndicatorQuery(from: monthAgo, to: today, by: .day))
    kinds.append(IndicatorQuery(from: monthAgo, to: today))
    var town = IndicatorQuery(from: monthAgo, to: today, by: .community)
    town.town = towns.first
    kinds.append(town)
    var times: [Double] = []
    for index in 0..<queries {
        let started = DispatchTime.now().uptimeNanoseconds
        guard case .success = try await statistics.indicators(kinds[index % kinds.count]) else { throw BenchError("a query failed") }
        times.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
    }
    times.sort()
    return StatsRun(
        eventsPerSecond: Double(folded) / elapsed,
        queryP50: times[times.count / 2],
        queryP99: times[min(times.count - 1, times.count * 99 / 100)],
        queryMax: times.last ?? 0,
        rollupRows: rollupRows
    )
}

/// (n, over the bus): grid-stats as a process behind gridbusd; `incidents` × 3 events published as
/// fast as the bus acknowledges them; the rate is events folded per second, from the first publish
/// until grid-stats' `/metrics` counts them all.
func measureStatsOverBus(bin: URL, workDirectory: String, district: District, incidents: Int, context: ZMQContext) async throws -> Double {
    let (daemon, ingress, egress, replay) = try startDaemon(bin: bin, directory: workDirectory + "/daemon-n")
    defer { daemon.stop() }
    let data = workDirectory + "/stats"
    try? FileManager.default.removeItem(atPath: data)
    let stats = try Server(
        bin.appendingPathComponent("grid-stats"),
        [
            "--data-dir", data, "--http-port", "0", "--district-dir", "deploy/sample", "--log-level", "warning", "--auth-mode", "none",
            "--bus-ingress", ingress, "--bus-egress", egress, "--bus-replay", replay,
        ],
        log: workDirectory + "/stats.log"
    )
    defer { stats.stop() }
    guard ListeningAddresses.awaitReadyFile(data + "/grid-stats.ready") != nil else { throw BenchError("grid-stats did not start") }
    let grids = district.grids.map(\.id)
    let count = incidents * 3
    let started = DispatchTime.now().uptimeNanoseconds
    let publisher = Background("stats-events") {
        let dealer = try ZMQSocket(context: context, type: .dealer)
        try dealer.setSendHighWaterMark(0)
        try dealer.setReceiveHighWaterMark(0)
        try dealer.setReceiveTimeout(milliseconds: 30_000)
        try dealer.connect(ingress)
        var random = SeededRandom(state: 7)
        var (sent, acked) = (0, 0)
        let now = RFC3339.format(Date())
        while acked < count {
            while sent < count && sent - acked < 3000 {
                let incident = sent / 3
                let grid = grids[incident % grids.count]
                let id = "o-\(incident)"
                let event: String
                switch sent % 3 {
                case 0:
                    event =
                        #"{"specversion":"1.0","id":"\#(id)-r","source":"grid-intake","type":"incident.reported","time":"\#(now)","subject":"\#(id)","grid":"\#(grid)","data":{"schemaVersion":1,"incidentId":"\#(id)","category":"E-01-02","description":"b","priority":"normal","channel":"app","reportedAt":"\#(now)","grid":"\#(grid)"}}"#
                case 1:
                    event =
                        #"{"specversion":"1.0","id":"\#(id)-1","source":"grid-dispatcher","type":"incident.registered","time":"\#(now)","subject":"\#(id)","grid":"\#(grid)","data":{"schemaVersion":1,"incidentId":"\#(id)","category":"E-01-02","grid":"\#(grid)","priority":"normal","deadline":"\#(now)"}}"#
                default:
                    event =
                        #"{"specversion":"1.0","id":"\#(id)-2","source":"grid-dispatcher","type":"incident.closed","time":"\#(now)","subject":"\#(id)","grid":"\#(grid)","data":{"schemaVersion":1,"incidentId":"\#(id)","by":"c","onTime":\#(random.next() % 5 != 0)}}"#
                }
                try dealer.send(frames: [BusProtocol.publish, BusProtocol.encode(UInt64(sent)), Array(event.utf8)])
                sent += 1
            }
            guard let answer = try dealer.receiveMessage(), answer.frames[0] == BusProtocol.ack else {
                throw BenchError("an event was not acknowledged")
            }
            acked += 1
        }
        return acked
    }
    _ = try publisher.value()
    // Each incident's closure is its last event: when the store counts every incident closed, grid-stats
    // has folded all the events (the bus delivers them in order).
    let store = try WorkerStore(path: data + "/stats.sqlite", migrations: Statistics.migrations)
    var closed = 0
    let end = Date().addingTimeInterval(600)
    while closed < incidents && Date() < end {
        usleep(100_000)
        closed = (try? await store.read { Int(try $0.scalar("SELECT COALESCE(SUM(closed), 0) FROM rollup_category")) }) ?? closed
    }
    guard closed >= incidents else { throw BenchError("grid-stats closed \(closed) of \(incidents) incidents in 600 s") }
    return Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
}
