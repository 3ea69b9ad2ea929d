import Foundation
import GridHTTP
import GridJSON
import GridSchema
import GridSecurity
import HTTPTypes
import Hummingbird

/// The native JSON API under `/v1` (docs/intake.md), on a group behind the API-key middleware.
struct NativeAPI {
    typealias Context = WorkerRequestContext<ReportChannel>
    let intake: Intake
    let keys: IntakeKeys
    let maxBodySize: Int

    func register(on api: RouterGroup<Context>) {
        api.post("/incidents") { request, context in try await create(request, client: try context.client()) }
        api.get("/incidents/{id}") { _, context in try await show(id: context.parameters.get("id") ?? "", client: try context.client()) }
        api.get("/incidents") { request, context in try await list(request, client: try context.client()) }
    }

    func create(_ request: Request, client: IntakeClient) async throws -> Response {
        let idempotencyKey = request.headers[.idempotencyKey]
        if let idempotencyKey, idempotencyKey.isEmpty || idempotencyKey.count > 200 {
            return HTTPSupport.errors(.badRequest, [FieldError("Idempotency-Key", "must be 1–200 characters")])
        }
        guard let body = try await HTTPSupport.body(of: request, limit: maxBodySize) else {
            return HTTPSupport.errors(.contentTooLarge, [FieldError("", "the body is larger than \(maxBodySize) bytes")])
        }
        let input: ReportInput
        switch ReportInput.parse(json: body, district: intake.district, defaultChannel: client.profile) {
        case .success(let parsed): input = parsed
        case .failure(let failure): return HTTPSupport.errors(.badRequest, failure.errors)
        }
        switch try await intake.report(input, client: client.name, idempotencyKey: idempotencyKey) {
        case .created(let incident, let json):
            return HTTPSupport.json(.created, encoded: json, headers: [.location: "/v1/incidents/\(incident.id)"])
        case .replayed(let incident, let json):
            return HTTPSupport.json(.ok, encoded: json, headers: [.location: "/v1/incidents/\(incident.id)", .idempotentReplayed: "true"])
        case .conflict(let incident, let field):
            return HTTPSupport.errors(
                .unprocessableContent,
                [FieldError(field, "already used for incident \(incident.id) with a different request; a retry must repeat the request exactly")]
            )
        }
    }

    func show(id: String, client: IntakeClient) async throws -> Response {
        guard let incident = try await intake.incident(id: id) else {
            return HTTPSupport.errors(.notFound, [FieldError("id", "no incident '\(id)'")])
        }
        return HTTPSupport.json(.ok, view(incident, for: client))
    }

    /// What a client sees: everything of its own reports; other reports without their reporter.
    func view(_ incident: Incident, for client: IntakeClient) -> Incident {
        keys.open || incident.client == client.name ? incident : incident.publicView
    }

    func list(_ request: Request, client: IntakeClient) async throws -> Response {
        var query = IntakeStore.Query()
        var errors: [FieldError] = []
        let known = ["grid", "category", "status", "since", "until", "limit", "cursor"]
        for (name, _) in request.uri.queryParameters where !known.contains(String(name)) {
            errors.append(FieldError(String(name), "unknown parameter (parameters: \(known.joined(separator: ", ")))"))
        }
        func list(_ name: String) -> [String] {
            HTTPSupport.query(request, name).map { $0.split(separator: ",").map(String.init) } ?? []
        }
        query.grids = list("grid")
        query.categories = list("category")
        for text in list("status") {
            if let status = IncidentStatus(rawValue: text) {
                query.statuses.append(status)
            } else {
                errors.append(FieldError("status", "'\(text)' is not one of \(IncidentStatus.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        for (name, keyPath) in [("since", \IntakeStore.Query.since), ("until", \IntakeStore.Query.until)] {
            guard let text = HTTPSupport.query(request, name) else { continue }
            if let date = RFC3339.parse(text) {
                query[keyPath: keyPath] = date
            } else {
                errors.append(FieldError(name, "is not an RFC 3339 date-time"))
            }
        }
        if let text = HTTPSupport.query(request, "limit") {
            if let limit = Int(text), (1...500).contains(limit) { query.limit = limit } else { errors.append(FieldError("limit", "must be 1–500")) }
        }
        if let text = HTTPSupport.query(request, "cursor") {
            if let cursor = Int64(text), cursor > 0 {
                query.before = cursor
            } else {
                errors.append(FieldError("cursor", "is not a cursor from a previous page"))
            }
        }
        guard errors.isEmpty else { return HTTPSupport.errors(.badRequest, errors) }
        let page = try await intake.list(query)
        return HTTPSupport.json(.ok, IncidentPage(incidents: page.incidents.map { view($0, for: client) }, next: page.next.map(String.init)))
    }
}

/// One page of `GET /v1/incidents`; `next` is the cursor of the following page.
struct IncidentPage: Encodable {
    let incidents: [Incident]
    let next: String?

    enum CodingKeys: CodingKey { case incidents, next }

    /// `next` is always present, `null` on the last page.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(incidents, forKey: .incidents)
        if let next { try container.encode(next, forKey: .next) } else { try container.encodeNil(forKey: .next) }
    }
}
