import Foundation
import GridDispatch
import GridDistrict
import GridSchema
import ZeroMQ

/// (k) Assignment decisions in a synthetic district: (p50, p99, max) in µs.
func measureAssignment(grids count: Int, decisions: Int) -> (p50: Double, p99: Double, max: Double) {
    let output = SampleDistrict(gridCount: count, seed: 11).generate()
    let district = District(grids: output.grids, members: output.members, categories: output.categories)
    let assigner = Assigner(district: district, strategy: .leastLoad)
    let categories = district.categories.filter { !$0.volunteer }
    var turns: [String: Int] = [:]
    var latencies: [UInt64] = []
    latencies.reserveCapacity(decisions)
    let at = Date(timeIntervalSince1970: 1_795_572_000)
    for n in 0..<decisions {
        let grid = output.grids[(n &* 7919) % output.grids.count].id
        let request = AssignmentRequest(grid: grid, category: categories[n % categories.count], at: at)
        let start = now()
        _ = assigner.assign(request, load: [:], turns: &turns)
        latencies.append(now() - start)
    }
    latencies.sort()
    func micro(_ q: Double) -> Double { Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))]) / 1000 }
    return (micro(0.5), micro(0.99), Double(latencies.last!) / 1000)
}

/// (l) `incident.reported` published as fast as the bus takes it; returns reports/s from the first
/// publish to the last `incident.dispatched` journaled by the dispatcher.
func measureDispatch(context: ZMQContext, ingress: String, replay: String, count: Int, grids: [String]) throws -> Double {
    let started = now()
    let acked = try onThread("reports") {
        let dealer = try ZMQSocket(context: context, type: .dealer)
        try dealer.setSendHighWaterMark(0)
        try dealer.setReceiveHighWaterMark(0)
        try dealer.setReceiveTimeout(milliseconds: 30_000)
        try dealer.connect(ingress)
        var sent = 0
        var acked = 0
        while acked < count {
            while sent < count && sent - acked < 2000 {
                let grid = grids[(sent &* 7919) % grids.count]
                let event = """
                    {"specversion":"1.0","id":"bench-report-\(sent)","source":"gridbench","type":"incident.reported","time":"2026-11-27T10:00:00Z",\
                    "datacontenttype":"application/json","grid":"\(grid)","data":{"schemaVersion":1,"incidentId":"bench-\(sent)","category":"E-01-02",\
                    "description":"bench","priority":"normal","channel":"iot","reportedAt":"2026-11-27T10:00:00Z","grid":"\(grid)"}}
                    """
                try dealer.send(frames: [BusProtocol.publish, BusProtocol.encode(UInt64(sent)), Array(event.utf8)])
                sent += 1
            }
            guard let answer = try dealer.receiveMessage() else { throw BenchError("no ACK within 30 s") }
            guard answer.frames[0] == BusProtocol.ack else {
                throw BenchError("publish refused: \(answer.frames.map { String(decoding: $0, as: UTF8.self) })")
            }
            acked += 1
        }
        return acked
    }
    var dispatched = 0
    let deadline = Date().addingTimeInterval(120)
    while dispatched < acked && Date() < deadline {
        dispatched = try countOnBus(context: context, replay: replay, prefix: "incident.dispatched")
        if dispatched < acked { usleep(100_000) }
    }
    guard dispatched >= acked else { throw BenchError("only \(dispatched) of \(acked) reports were dispatched within 120 s") }
    return Double(acked) / (Double(now() - started) / 1e9)
}
