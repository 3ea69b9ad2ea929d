import Foundation
import GridBusClient
import GridDispatch
import GridDistrict
import GridSchema
import GridSecurity
import ZeroMQ

/// (o) gridbusd against libzmq's proxy, NATS, Redis and Mosquitto.
struct BrokerComparison: Measurement {
    static let letters = "o"

    static func run(_ bench: Bench) throws {
        let (comparison, headToHead, fanOutToMany) = try measureComparison(
            bin: bench.binDirectory,
            workDirectory: bench.workDirectory,
            context: bench.context,
            count: bench.events,
            size: bench.size,
            window: bench.window,
            rate: bench.rate,
            rounds: max(bench.runs, 1),
            gridbusd: bench.gridbusdNumbers
        )
        var table =
            "| system (o) | acknowledged publish, window \(bench.window) | live fan-out, 1 subscriber | publish → subscriber at \(bench.rate)/s for 5 s |\n| --- | --- | --- | --- |\n"
        for row in comparison { table += "| \(row.system) | \(row.acked) | \(row.fanOut) | \(row.latency) |\n" }
        bench.sections.append(table + "\n" + headToHead + "\n" + fanOutToMany)
    }
}
