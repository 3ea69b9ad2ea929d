import ArgumentParser
import Foundation
import GridBusClient
import GridConfiguration
import ZeroMQ

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Print journaled events, one CloudEvent JSON per line, then exit."
    )

    @OptionGroup var bus: BusOptions
    @Argument(help: "Topic prefixes (default: everything).") var prefixes: [String] = []
    @Option(help: "First sequence to print.") var from: UInt64 = 1
    @Option(help: "Last sequence to print (default: the head when the replay started).") var to: UInt64?

    func run() async throws {
        let requester = BusRequester(context: ZMQContext(), endpoint: bus.replay, credentials: try bus.credentials())
        var cursor = from > 0 ? from - 1 : 0
        var end = to
        do {
            while true {
                let batch = try await requester.replay(after: cursor, prefixes: prefixes.isEmpty ? [""] : prefixes, timeout: bus.timeoutDuration)
                if end == nil { end = batch.head }
                var output = ""
                for event in batch.events where event.sequence <= end! { output += event.json + "\n" }
                FileHandleOutput.standardOutput(output)
                cursor = batch.next
                if batch.isComplete || cursor >= end! { break }
            }
        } catch let error as BusClientError {
            await requester.close()
            throw RuntimeFailure("\(error)")
        }
        await requester.close()
    }
}
