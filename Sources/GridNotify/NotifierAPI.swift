import Foundation
import GridConfiguration
import GridHTTP
import GridJSON
import GridSchema
import GridSecurity
import HTTPTypes
import Hummingbird
import NIOCore

/// A notifier API client: operators and monitoring; every client may do everything.
public struct NotifierAccess: Sendable, Equatable {
    public init() {}
}

public typealias NotifierKeys = APIKeyRing<NotifierAccess>

public enum NotifierClients {
    public static func load(_ file: String) throws(DefinitionError) -> [APIClient<NotifierAccess>] {
        try APIKeysFile.load(file, profileFields: []) { (_) throws(DefinitionError) in NotifierAccess() }
    }
}

/// Silences, the notification log and the reminders to come over HTTP (docs/notifier.md), on a
/// group behind the API-key middleware.
struct NotifierAPI {
    typealias Context = WorkerRequestContext<NotifierAccess>
    let notifier: Notifier

    func register(on api: RouterGroup<Context>) {
        api.post("/silences") { request, _ in try await create(request) }
        api.get("/silences") { request, _ in
            let all = HTTPSupport.query(request, "expired") == "true"
            return HTTPSupport.json(.ok, ["silences": try await notifier.silences(includeExpired: all)])
        }
        api.delete("/silences/{id}") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard let silence = try await notifier.expireSilence(id) else {
                return HTTPSupport.errors(.notFound, [FieldError("id", "no silence '\(id)'")])
            }
            return HTTPSupport.json(.ok, silence)
        }
        api.get("/notifications") { request, _ in
            guard let incident = HTTPSupport.query(request, "incident"), !incident.isEmpty else {
                return HTTPSupport.errors(.badRequest, [FieldError("incident", "is required: /v1/notifications?incident=ID")])
            }
            return HTTPSupport.json(.ok, ["notifications": try await notifier.log(incident: incident)])
        }
        api.get("/reminders") { request, _ in
            let limitText = HTTPSupport.query(request, "limit") ?? "100"
            guard let limit = Int(limitText), (1...1000).contains(limit) else {
                return HTTPSupport.errors(.badRequest, [FieldError("limit", "'\(limitText)' is not a whole number from 1 to 1000")])
            }
            let incident = HTTPSupport.query(request, "incident").flatMap { $0.isEmpty ? nil : $0 }
            let recipient = HTTPSupport.query(request, "recipient").flatMap { $0.isEmpty ? nil : $0 }
            let reminders = try await notifier.waitingReminders(incident: incident, recipient: recipient, limit: limit)
            return HTTPSupport.json(.ok, ["reminders": reminders])
        }
    }

    /// `{"matchers": {"grid": "G-01", "type": "incident.dispatched"}, "duration": "2h" | "endsAt": "…", "createdBy": "ops", "comment": "…"}`
    func create(_ request: Request) async throws -> Response {
        guard let body = try await HTTPSupport.body(of: request, limit: 16 << 10) else {
            return HTTPSupport.errors(.contentTooLarge, [FieldError("", "the body is larger than 16KiB")])
        }
        guard case .object(let fields)? = try? JSONValue(parsing: Array(body)) else {
            return HTTPSupport.errors(
                .badRequest,
                [FieldError("", "the body must be a JSON object: matchers, duration or endsAt, createdBy, comment")]
            )
        }
        var problems: [FieldError] = []
        for key in fields.keys.sorted() where !["matchers", "duration", "endsAt", "createdBy", "comment"].contains(key) {
            problems.append(FieldError(key, "unknown field"))
        }
        var matchers = Silence.Matchers()
        if case .object(let given)? = fields["matchers"] {
            for (key, value) in given.sorted(by: { $0.key < $1.key }) {
                guard let text = value.stringValue, !text.isEmpty, text.count <= 128 else {
                    problems.append(FieldError("matchers.\(key)", "must be a non-empty string"))
                    continue
                }
                switch key {
                case "type": matchers.type = text
                case "grid": matchers.grid = text
                case "category": matchers.category = text
                case "recipient": matchers.recipient = text
                case "incident": matchers.incident = text
                default: problems.append(FieldError("matchers.\(key)", "unknown matcher (type, grid, category, recipient, incident)"))
                }
            }
            if matchers.isEmpty && problems.isEmpty {
                problems.append(FieldError("matchers", "needs at least one matcher: a silence of everything is too easy to forget"))
            }
        } else {
            problems.append(FieldError("matchers", "is required: an object of type, grid, category, recipient, incident"))
        }
        let now = notifier.now()
        var endsAt: Date?
        switch (fields["duration"]?.stringValue, fields["endsAt"]?.stringValue) {
        case (let duration?, nil):
            if let seconds = GridConfigReader.parseDuration(duration), seconds > 0 {
                endsAt = now.addingTimeInterval(seconds)
            } else {
                problems.append(FieldError("duration", "'\(duration)' is not a duration such as 30m or 2h"))
            }
        case (nil, let text?):
            if let date = RFC3339.parse(text), date > now {
                endsAt = date
            } else {
                problems.append(FieldError("endsAt", "must be an RFC 3339 time in the future"))
            }
        default:
            problems.append(FieldError("duration", "give either duration or endsAt"))
        }
        let createdBy = fields["createdBy"]?.stringValue ?? ""
        if createdBy.isEmpty || createdBy.count > 64 { problems.append(FieldError("createdBy", "is required: who silences")) }
        guard problems.isEmpty, let endsAt else { return HTTPSupport.errors(.badRequest, problems) }
        let silence = try await notifier.addSilence(matchers, until: endsAt, by: createdBy, comment: fields["comment"]?.stringValue)
        return HTTPSupport.json(.created, silence)
    }
}
