import Foundation
import GridSchema
import Synchronization
import ZeroMQ

/// (p) Where a report's time goes. A plain subscriber on gridbusd's egress notes when each
/// incident's `incident.reported` and `incident.dispatched` come out of the bus (journaled and
/// fanned out), on the clock of the reports' due times and the webhook's arrivals. A report's
/// time then splits into four stages:
/// - accept: due → grid-intake's 201 at the client (HTTP, its synced commit);
/// - publish: → `incident.reported` out of the bus (intake's publish, the journal's synced commit;
///   0 when the bus was faster than the answer);
/// - dispatch: → `incident.dispatched` out of the bus (grid-dispatcher, its commit, the journal);
/// - notify: → the webhook delivered (grid-notifier's plan and claim, its synced commit, the POST).
/// The subscriber adds one plain subscription to the bus's work, a small part of the five
/// subscribers it already serves.
final class StageWatcher: Sendable {
    private final class State: Sendable {
        let seen = Mutex<(reported: [String: UInt64], dispatched: [String: UInt64])>(([:], [:]))
        let stopped = Atomic<Bool>(false)
    }

    private let state = State()
    private let thread: Background<Int>

    /// Returns once a heartbeat has proved that the subscription reached the daemon.
    init(context: ZMQContext, egress: String) throws {
        let state = self.state
        let ready = BoundedBuffer<Bool>(capacity: 1)
        thread = Background("stages") {
            let sub = try ZMQSocket(context: context, type: .subscribe)
            defer { sub.close() }
            try sub.setReceiveHighWaterMark(0)
            for prefix in [EventType.incidentReported, .incidentDispatched].map({ Topic.prefix(forType: $0) }) + ["bus.heartbeat/"] {
                try sub.subscribe(prefix)
            }
            try sub.connect(egress)
            try sub.setReceiveTimeout(milliseconds: 30_000)
            while let message = try sub.receiveMessage(), message.frames[0].first != UInt8(ascii: "b") {}
            _ = ready.tryPush(true)
            try sub.setReceiveTimeout(milliseconds: 100)
            let reported = Array(Topic.prefix(forType: .incidentReported).utf8)
            var count = 0
            while !state.stopped.load(ordering: .relaxed) {
                guard let message = try sub.receiveMessage(), message.frames.count == 3, let incident = Self.incidentID(in: message.frames[2]) else {
                    continue
                }
                let at = now()
                let isReport = message.frames[0].starts(with: reported)
                state.seen.withLock { seen in
                    // The first time only: a case dispatched again (returned, escalated) keeps its first.
                    if isReport {
                        seen.reported[incident] = seen.reported[incident] ?? at
                    } else {
                        seen.dispatched[incident] = seen.dispatched[incident] ?? at
                    }
                }
                count += 1
            }
            return count
        }
        guard ready.popBlocking(timeout: 30) != nil else {
            state.stopped.store(true, ordering: .relaxed)
            _ = try thread.value()
            throw BenchError("the stage watcher did not hear a heartbeat from \(egress)")
        }
    }

    /// Stops the subscriber; returns when each incident's report and first dispatch came out of the bus.
    func finish() throws -> (reported: [String: UInt64], dispatched: [String: UInt64]) {
        state.stopped.store(true, ordering: .relaxed)
        _ = try thread.value()
        return state.seen.withLock { $0 }
    }

    private static let incidentKey = Array(#""incidentId":""#.utf8)

    /// The event's `data.incidentId`, found without decoding the event (its first occurrence:
    /// data is the only place the envelope names it).
    static func incidentID(in event: [UInt8]) -> String? {
        guard let start = event.firstRange(of: incidentKey)?.upperBound, let end = event[start...].firstIndex(of: UInt8(ascii: "\"")) else {
            return nil
        }
        return String(decoding: event[start..<end], as: UTF8.self)
    }
}

/// One report's four stages (ms), by ``StageWatcher``'s split.
struct EndToEndStages {
    var accept: Double
    var publish: Double
    var dispatch: Double
    var notify: Double

    static let names = ["accept", "publish", "dispatch", "notify"]
    var values: [Double] { [accept, publish, dispatch, notify] }

    /// The stages of a report due at `due`, answered at `answered` and delivered at `arrival` (ns),
    /// when the bus showed both of its events. Each stage starts where the one before ended, or
    /// later (the watcher may hear an event after the next stage began): none is below 0, and
    /// together they make the whole trip, unless the watcher heard an event after the webhook
    /// came (then they run to when it heard it).
    init?(due: UInt64, answered: UInt64, reported: UInt64?, dispatched: UInt64?, arrival: UInt64) {
        guard let reported, let dispatched else { return nil }
        func milliseconds(_ from: UInt64, _ to: UInt64) -> Double { to > from ? Double(to - from) / 1e6 : 0 }
        accept = milliseconds(due, answered)
        publish = milliseconds(max(due, answered), reported)
        dispatch = milliseconds(max(due, answered, reported), dispatched)
        notify = milliseconds(max(due, answered, reported, dispatched), arrival)
    }

    /// Each stage's p50 and p99 over `stages`, and its mean over the slowest 1 % of reports (those
    /// at or above the p99 of the whole trip): which stage the tail comes from.
    static func summary(_ stages: [EndToEndStages]) -> String {
        guard !stages.isEmpty else { return "no report was seen on the bus" }
        let totals = stages.map { $0.values.reduce(0, +) }.sorted()
        let threshold = totals.quantile(0.99)
        let tail = stages.filter { $0.values.reduce(0, +) >= threshold }
        return names.indices.map { index in
            let values = stages.map { $0.values[index] }.sorted()
            let tailMean = tail.map { $0.values[index] }.reduce(0, +) / Double(max(tail.count, 1))
            return String(
                format: "%@ p50 %.1f / p99 %.1f ms, %.1f ms in the slowest 1 %%",
                names[index],
                values.quantile(0.5),
                values.quantile(0.99),
                tailMean
            )
        }.joined(separator: "; ")
    }
}
