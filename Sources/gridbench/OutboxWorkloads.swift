import Foundation
import GridBusClient
import Logging
import ServiceLifecycle
import ZeroMQ

/// (q) a worker's outbox after an outage: `count` 200-byte events committed to a `WorkerStore`'s
/// outbox while the publisher was not running, then drained into gridbusd by `ReliablePublisher`
/// with `eventsPerPublish` events to a PUB. Returns events per second from the publisher's start to
/// an empty outbox (every event ACKed and marked delivered in the store).
func measureOutboxDrain(context: ZMQContext, ingress: String, workDirectory: String, count: Int, eventsPerPublish: Int) throws -> Double {
    let path = workDirectory + "/outbox.sqlite"
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    return try blockingAsync {
        let store = try WorkerStore(path: path)
        for start in stride(from: 0, to: count, by: 10_000) {
            let events = (start..<min(start + 10_000, count)).map { (id: "\($0)", bytes: benchEvent($0)) }
            _ = try await store.enqueue(events, nowMilliseconds: 0)
        }
        var configuration = ReliablePublisher.Configuration()
        configuration.eventsPerPublish = eventsPerPublish
        var logger = Logger(label: "gridbench-outbox")
        logger.logLevel = .warning
        let publisher = ReliablePublisher(store: store, endpoint: ingress, context: context, configuration: configuration, logger: logger)
        let group = ServiceGroup(services: [publisher], logger: logger)
        let started = ContinuousClock.now
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            while try await store.outboxCount() > 0 {
                guard ContinuousClock.now - started < .seconds(120) else { throw BenchError("the outbox did not drain in 120 s") }
                try await Task.sleep(for: .milliseconds(5))
            }
            let elapsed = ContinuousClock.now - started
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
    }
}
