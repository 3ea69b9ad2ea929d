import Foundation
import GridBusClient
import GridDistrict
import GridSchema
import GridStats
import GridStore
import Logging

struct StatsRun {
    var eventsPerSecond: Double
    var queryP50: Double
    var queryP99: Double
    var queryMax: Double
    var rollupRows: Int
}

/// (n): grid-stats' fold and queries in process, on a store the size the target names: `incidents`
/// cases over 90 days of the sample district (each reported, registered and closed: three events),
/// folded in batches of 2,000 as the durable subscriber hands them over; then `queries` indicator
/// queries of the dashboard's kinds (today, 30 days by grid, by category, by day, a town by
/// community), each timed.
func measureStats(district: District, incidents: Int, queries: Int, workDirectory: String) async throws -> StatsRun {
    let path = workDirectory + "/stats-bench.sqlite"
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
    let store = try WorkerStore(path: path)
    try await Statistics.prepare(store)
    let end = Date()
    let statistics = Statistics(district: district, settings: Statistics.Settings(), store: store, logger: Logger(label: "bench"), now: { end })
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
        batch.append(Array(#"{"specversion":"1.0","id":"\#(id)-r","source":"grid-intake","type":"incident.reported","time":"\#(stamp(0))","subject":"\#(id)","grid":"\#(grid)","data":{"schemaVersion":1,"incidentId":"\#(id)","category":"\#(category)","description":"b","priority":"normal","channel":"app","reportedAt":"\#(stamp(0))","grid":"\#(grid)"}}"#.utf8))
        batch.append(Array(#"{"specversion":"1.0","id":"\#(id)-1","source":"grid-dispatcher","type":"incident.registered","time":"\#(stamp(60))","subject":"\#(id)","grid":"\#(grid)","data":{"schemaVersion":1,"incidentId":"\#(id)","category":"\#(category)","grid":"\#(grid)","priority":"normal","deadline":"\#(stamp(7200))"}}"#.utf8))
        let late = generator.next() % 5 == 0
        batch.append(Array(#"{"specversion":"1.0","id":"\#(id)-7","source":"grid-dispatcher","type":"incident.closed","time":"\#(stamp(late ? 9000 : 3600))","subject":"\#(id)","grid":"\#(grid)","data":{"schemaVersion":1,"incidentId":"\#(id)","by":"c","onTime":\#(!late)}}"#.utf8))
        if batch.count >= 2000 { try await flush() }
    }
    try await flush()
    let rollupRows = try await store.withConnection { Int(try $0.scalar("SELECT COUNT(*) FROM rollup")) }
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
        eventsPerSecond: Double(folded) / elapsed, queryP50: times[times.count / 2], queryP99: times[min(times.count - 1, times.count * 99 / 100)],
        queryMax: times.last ?? 0, rollupRows: rollupRows
    )
}
