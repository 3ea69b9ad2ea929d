import ArgumentParser
import Foundation
import GridJSON

/// Options of the commands that talk to grid-notifier's HTTP API.
struct NotifierOptions: ParsableArguments {
    @Option(name: .customLong("notifier"), help: "grid-notifier's HTTP address (env GRIDBUS_NOTIFIER_URL).")
    var url: String = Environment.value("GRIDBUS_NOTIFIER_URL") ?? "http://127.0.0.1:8082"

    @Option(name: .customLong("api-key"), help: "The API key grid-notifier knows this client by (env GRIDBUS_NOTIFIER_KEY).")
    var apiKeyOption: String?
    /// The option, or else the environment (an option with a default cannot be optional).
    var apiKey: String? { apiKeyOption ?? Environment.value("GRIDBUS_NOTIFIER_KEY") }

    @Option(help: "Seconds to wait for an answer.")
    var timeout: Double = 10

    var http: WorkerHTTP { WorkerHTTP(program: "grid-notifier", url: url, apiKey: apiKey, timeout: timeout, flag: "--notifier") }
}

/// `gridctl silence add|list|expire`: hold back notifications for a while.
struct SilenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence",
        abstract: "Hold back notifications that match, until the silence ends (through grid-notifier).",
        subcommands: [Add.self, List.self, Expire.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a silence; prints it as JSON.")
        @Option(help: "An event type, e.g. incident.dispatched or reminder.") var type: String?
        @Option(help: "A grid id or prefix, e.g. G-01-02.") var grid: String?
        @Option(help: "A category code or prefix, e.g. E-01.") var category: String?
        @Option(help: "A recipient id, e.g. m-00042.") var recipient: String?
        @Option(help: "An incident id.") var incident: String?
        @Option(help: "How long, e.g. 30m or 2h.") var duration: String
        @Option(help: "Who silences.") var by: String
        @Option(help: "Why.") var comment: String?
        @OptionGroup var notifier: NotifierOptions

        func validate() throws {
            guard [type, grid, category, recipient, incident].contains(where: { $0 != nil }) else {
                throw ValidationError("give at least one matcher: --type, --grid, --category, --recipient or --incident")
            }
        }

        func run() async throws {
            var matchers: [String: JSONValue] = [:]
            for (key, value) in [("type", type), ("grid", grid), ("category", category), ("recipient", recipient), ("incident", incident)] {
                if let value { matchers[key] = .string(value) }
            }
            var body: [String: JSONValue] = ["matchers": .object(matchers), "duration": .string(duration), "createdBy": .string(by)]
            if let comment { body["comment"] = .string(comment) }
            try await notifier.http.send("POST", "/v1/silences", body: .object(body))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the active silences (with --expired, the ended ones too).")
        @Flag(help: "Include silences that have ended.") var expired = false
        @OptionGroup var notifier: NotifierOptions
        func run() async throws { try await notifier.http.send("GET", "/v1/silences" + (expired ? "?expired=true" : "")) }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a silence now.")
        @Argument(help: "The silence id, e.g. s-1a2b3c4d.") var id: String
        @OptionGroup var notifier: NotifierOptions
        func run() async throws {
            try await notifier.http.send("DELETE", "/v1/silences/\(id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id)")
        }
    }
}
