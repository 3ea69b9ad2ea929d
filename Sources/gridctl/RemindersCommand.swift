import ArgumentParser
import Foundation

/// `gridctl reminders`: the reminders still to come (through grid-notifier), soonest first.
struct RemindersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reminders",
        abstract: "List the reminders still to come, soonest first: who is reminded of which dispatch, and when next (through grid-notifier)."
    )
    @Option(help: "Only this incident's.") var incident: String?
    @Option(help: "Only this member's, e.g. m-00042.") var recipient: String?
    @Option(help: "At most this many (1 to 1000).") var limit = 100
    @OptionGroup var notifier: NotifierOptions

    func run() async throws {
        var query = URLComponents()
        query.queryItems = [("incident", incident), ("recipient", recipient), ("limit", String(limit))].compactMap { name, value in
            value.map { URLQueryItem(name: name, value: $0) }
        }
        try await notifier.http.send("GET", "/v1/reminders?" + (query.percentEncodedQuery ?? ""))
    }
}
