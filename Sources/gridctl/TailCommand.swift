import ArgumentParser
import Foundation
import GridBusClient
import GridConfiguration
import GridSchema
import Logging
import Synchronization
import ZeroMQ

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print events as they arrive, one CloudEvent JSON per line.",
        discussion: """
            Prefixes select topics (<type>/<grid>): 'incident.' for every incident event,
            'incident.dispatched/' for one type. With --from, replays from that sequence first and
            then follows live, without gaps. Example: gridctl tail incident. | jq .type
            """
    )

    @OptionGroup var bus: BusOptions
    @Argument(help: "Topic prefixes (default: every event; heartbeats are never printed).") var prefixes: [String] = []
    @Option(help: "Start at this sequence (replaying the journal) instead of now.") var from: UInt64?
    @Option(help: "Stop after this many events.") var count: Int?

    func run() async throws {
        let context = ZMQContext()
        let requester = BusRequester(context: context, endpoint: bus.replay, credentials: try bus.credentials())
        let head: UInt64
        do { head = try await requester.ping(timeout: bus.timeoutDuration) } catch {
            throw RuntimeFailure("\(error)")
        }
        await requester.close()
        let start = from.map { $0 > 0 ? $0 - 1 : 0 } ?? head
        let selected = prefixes.isEmpty ? [""] : prefixes
        let printed = PrintBudget(limit: count)
        var logger = Logger(label: "gridctl")
        logger.logLevel = .warning
        let subscriber = DurableSubscriber(
            name: "gridctl-tail-\(ProcessInfo.processInfo.processIdentifier)",
            endpoints: try bus.endpoints(),
            prefixes: selected,
            store: InMemoryCursorStore(["gridctl-tail-\(ProcessInfo.processInfo.processIdentifier)": start]),
            context: context,
            logger: logger
        ) { event in
            guard printed.take() else { throw CancellationError() }
            FileHandleOutput.standardOutput(event.json + "\n")
            if printed.isDone { throw CancellationError() }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscriber.run() }
            group.addTask {
                while !printed.isDone { try await Task.sleep(for: .milliseconds(50)) }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}

/// Counts printed events against `--count`, shared between the handler and the waiting task.
final class PrintBudget: Sendable {
    private let state: Mutex<Int>
    private let limit: Int?
    init(limit: Int?) {
        self.limit = limit
        state = Mutex(0)
    }
    /// Claims one slot; false once the limit is reached.
    func take() -> Bool {
        state.withLock { count in
            guard limit.map({ count < $0 }) ?? true else { return false }
            count += 1
            return true
        }
    }
    var isDone: Bool { limit.map { limit in state.withLock { $0 >= limit } } ?? false }
}
