import ArgumentParser
import Foundation
import GridConfiguration
import GridJSON

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Options of the commands that talk to grid-dispatcher's HTTP API.
struct DispatcherOptions: ParsableArguments {
    @Option(name: .customLong("dispatcher"), help: "grid-dispatcher's HTTP address (env GRIDBUS_DISPATCHER_URL).")
    var url: String = Environment.value("GRIDBUS_DISPATCHER_URL") ?? "http://127.0.0.1:8081"

    @Option(name: .customLong("api-key"), help: "The API key grid-dispatcher knows this client by (env GRIDBUS_DISPATCHER_KEY).")
    var apiKeyOption: String?
    /// The option, or else the environment (an option with a default cannot be optional).
    var apiKey: String? { apiKeyOption ?? Environment.value("GRIDBUS_DISPATCHER_KEY") }

    @Option(help: "Seconds to wait for an answer.")
    var timeout: Double = 10

    func send(_ method: String, _ path: String, body: JSONValue? = nil, idempotencyKey: String? = nil) async throws {
        try await WorkerHTTP(program: "grid-dispatcher", url: url, apiKey: apiKey, timeout: timeout, flag: "--dispatcher")
            .send(method, path, body: body, idempotencyKey: idempotencyKey)
    }
}

/// `gridctl case ACTION ID`: an operator acting on a case, as a handler's app would.
struct CaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case",
        abstract:
            "Show a case, or act on it through grid-dispatcher (acknowledge, start, handle, return, extend, suspend, resume, verify-pass, verify-fail, close, reopen, claim).",
        discussion: "Prints the case as JSON. An action the case's state does not allow fails (exit 1) with the actions it allows."
    )

    @Argument(help: "'show' or an action.") var action: String
    @Argument(help: "The case (incident) id.") var id: String
    @Option(help: "Who acts: a member id or an operator name.") var by: String?
    @Option(help: "A note (required by handle).") var note: String?
    @Option(help: "A reason (required by return and reopen).") var reason: String?
    @Option(help: "The new deadline for extend (RFC 3339).") var deadline: String?
    @Option(name: .customLong("photo-url"), help: "A photo of the work (handle); repeat for several.") var photoURLs: [String] = []
    @Option(help: "The grid to place a triaged report in (place).") var grid: String?
    @Option(name: .customLong("idempotency-key"), help: "Makes a retried command harmless.") var idempotencyKey: String?
    @OptionGroup var dispatcher: DispatcherOptions

    static let actions = [
        "acknowledge", "start", "handle", "return", "extend", "suspend", "resume", "verify-pass", "verify-fail", "close", "reopen", "claim", "place",
    ]

    func validate() throws {
        guard action == "show" || Self.actions.contains(action) else {
            throw ValidationError("'\(action)' is not show or an action: \(Self.actions.joined(separator: ", "))")
        }
        if action != "show" && (by ?? "").isEmpty { throw ValidationError("--by is required: who acts") }
    }

    func run() async throws {
        let path = "/v1/cases/\(id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id)"
        if action == "show" { return try await dispatcher.send("GET", path) }
        var body: [String: JSONValue] = ["by": .string(by ?? "")]
        if let note { body["note"] = .string(note) }
        if let reason { body["reason"] = .string(reason) }
        if let deadline { body["deadline"] = .string(deadline) }
        if !photoURLs.isEmpty { body["photoUrls"] = .array(photoURLs.map(JSONValue.string)) }
        if let grid { body["grid"] = .string(grid) }
        try await dispatcher.send("POST", "\(path)/\(action)", body: .object(body), idempotencyKey: idempotencyKey)
    }
}

/// `gridctl mode SCOPE TARGET emergency|normal`: emergency mode on or off for a place.
struct ModeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mode",
        abstract: "Switch a grid, community, town or the district to emergency mode, or back to normal (through grid-dispatcher)."
    )

    @Argument(help: "grid, community, town or district.") var scope: String
    @Argument(help: "The place's id, e.g. C-04-03.") var target: String
    @Argument(help: "emergency or normal.") var mode: String
    @Option(help: "The operator switching.") var by: String
    @Option(help: "Why.") var reason: String?
    @OptionGroup var dispatcher: DispatcherOptions

    func validate() throws {
        guard ["grid", "community", "town", "district"].contains(scope) else {
            throw ValidationError("SCOPE must be grid, community, town or district")
        }
        guard ["emergency", "normal"].contains(mode) else { throw ValidationError("MODE must be emergency or normal") }
    }

    func run() async throws {
        var body: [String: JSONValue] = ["scope": .string(scope), "target": .string(target), "mode": .string(mode), "by": .string(by)]
        if let reason { body["reason"] = .string(reason) }
        try await dispatcher.send("POST", "/v1/modes", body: .object(body))
    }
}
