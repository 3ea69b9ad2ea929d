import Foundation
import GridHTTP
import GridJSON
import GridSchema
import GridSecurity
import HTTPTypes
import Hummingbird
import NIOCore

/// The handlers' and operators' HTTP API (docs/dispatcher.md), on a group behind the API-key
/// middleware: the dispatcher owns the lifecycle, so it answers each action at once — 200 with the
/// case, or 409 with the actions allowed now. A client needs the scope an action takes (an operator
/// has every scope): 403 without it.
struct DispatcherAPI {
    typealias Context = WorkerRequestContext<Set<DispatcherScope>>
    let dispatcher: Dispatcher

    func register(on api: RouterGroup<Context>) {
        api.get("/cases/{id}") { _, context in
            _ = try Self.client(context, .handler)
            let id = context.parameters.get("id") ?? ""
            guard let item = try await dispatcher.get(id) else { return errors(.notFound, [("id", "no case '\(id)'")]) }
            return json(.ok, item)
        }
        api.post("/cases/{id}/{action}") { request, context in
            try await act(request, context: context, id: context.parameters.get("id") ?? "", action: context.parameters.get("action") ?? "")
        }
        api.post("/modes") { request, context in
            _ = try Self.client(context, .operator)
            return try await setMode(request)
        }
    }

    /// The client behind the request if it has `scope` (an operator has every scope), else 403.
    static func client(_ context: Context, _ scope: DispatcherScope) throws -> DispatcherClient {
        try context.client(lacking: "the scope '\(scope.rawValue)' this needs") { $0.contains(scope) || $0.contains(.operator) }
    }

    /// Placing a triaged report is an operator's decision; the rest are handlers' actions.
    static func scope(of action: CaseAction) -> DispatcherScope { action == .place ? .operator : .handler }

    func act(_ request: Request, context: Context, id: String, action name: String) async throws -> Response {
        guard let action = CaseAction(rawValue: name) else {
            _ = try Self.client(context, .handler)
            return errors(.notFound, [("action", "'\(name)' is not an action (\(CaseAction.allCases.map(\.rawValue).joined(separator: ", ")))")])
        }
        _ = try Self.client(context, Self.scope(of: action))
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: 64 << 10) } catch { return errors(.contentTooLarge, [("", "the body is larger than 64KiB")]) }
        guard case .object(let fields)? = try? JSONValue(parsing: Array(body.readableBytesView)) else {
            return errors(.badRequest, [("", "the body must be a JSON object with at least 'by'")])
        }
        var problems: [(String, String)] = []
        for key in fields.keys.sorted() where !["by", "note", "reason", "photoUrls", "deadline", "grid"].contains(key) {
            problems.append((key, "unknown field"))
        }
        func text(_ key: String, max: Int) -> String? {
            guard let value = fields[key], value != .null else { return nil }
            guard case .string(let string) = value, string.count <= max else {
                problems.append((key, "must be a string of at most \(max) characters"))
                return nil
            }
            return string
        }
        let by = text("by", max: 64)
        if by == nil || by!.isEmpty { problems.append(("by", "is required: the member or operator acting")) }
        let note = text("note", max: 4000)
        let reason = text("reason", max: 1000)
        var deadline: Date?
        if let value = text("deadline", max: 64) {
            deadline = RFC3339.parse(value)
            if deadline == nil { problems.append(("deadline", "is not an RFC 3339 date-time")) }
        }
        var photos: [String] = []
        if let value = fields["photoUrls"], value != .null {
            guard case .array(let items) = value else { return errors(.badRequest, [("photoUrls", "must be a list of http(s) URLs")]) }
            for (index, item) in items.enumerated() {
                guard case .string(let url) = item, let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? "")
                else {
                    problems.append(("photoUrls[\(index)]", "must be an http or https URL"))
                    continue
                }
                photos.append(url)
            }
        }
        guard problems.isEmpty, let by else { return errors(.badRequest, problems) }
        let input = ActionInput(by: by, note: note, reason: reason, photoURLs: photos, deadline: deadline, grid: text("grid", max: 64))
        switch try await dispatcher.act(id, action, input, requestKey: request.headers[HTTPField.Name("Idempotency-Key")!]) {
        case .done(let item): return json(.ok, item)
        case .notFound: return errors(.notFound, [("id", "no case '\(id)'")])
        case .invalid(let error): return errors(.badRequest, [(error.field, error.reason)])
        case .illegal(let illegal):
            return json(
                .conflict,
                Conflict(
                    errors: [["field": "action", "reason": illegal.description]],
                    state: illegal.state.rawValue,
                    allowed: illegal.allowed.map(\.rawValue)
                )
            )
        }
    }

    /// `{"scope":"community","target":"C-01-02","mode":"emergency","by":"operator","reason":"typhoon"}`
    func setMode(_ request: Request) async throws -> Response {
        var request = request
        guard let body = try? await request.collectBody(upTo: 16 << 10),
            case .object(let fields)? = try? JSONValue(parsing: Array(body.readableBytesView))
        else { return errors(.badRequest, [("", "the body must be a JSON object: scope, target, mode, by, reason")]) }
        var problems: [(String, String)] = []
        for key in fields.keys.sorted() where !["scope", "target", "mode", "by", "reason"].contains(key) { problems.append((key, "unknown field")) }
        let scope = fields["scope"]?.stringValue.flatMap(GridModeChanged.Scope.init(rawValue:))
        if scope == nil { problems.append(("scope", "must be grid, community, town or district")) }
        let mode = fields["mode"]?.stringValue.flatMap(GridModeChanged.Mode.init(rawValue:))
        if mode == nil { problems.append(("mode", "must be emergency or normal")) }
        let target = fields["target"]?.stringValue ?? ""
        if target.isEmpty { problems.append(("target", "is required")) }
        let by = fields["by"]?.stringValue ?? ""
        if by.isEmpty || by.count > 64 { problems.append(("by", "is required: the operator switching")) }
        guard problems.isEmpty, let scope, let mode else { return errors(.badRequest, problems) }
        switch try await dispatcher.setMode(scope: scope, target: target, mode: mode, by: by, reason: fields["reason"]?.stringValue) {
        case .success(let change): return json(.ok, change)
        case .failure(let problem): return errors(.notFound, [(problem.field, problem.reason)])
        }
    }

    func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response { HTTPSupport.json(status, value) }

    func errors(_ status: HTTPResponse.Status, _ list: [(String, String)]) -> Response {
        json(status, ["errors": list.map { ["field": $0.0, "reason": $0.1] }])
    }
}

/// The 409 answer: why, the case's state, and the actions allowed in it.
struct Conflict: Encodable {
    let errors: [[String: String]]
    let state: String
    let allowed: [String]
}
