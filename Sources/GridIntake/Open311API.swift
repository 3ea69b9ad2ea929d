import Foundation
import GridDistrict
import GridHTTP
import GridJSON
import GridSchema
import GridSecurity
import HTTPTypes
import Hummingbird

/// Open311 GeoReport v2 under `/open311/v2/`, in JSON and XML (docs/intake.md, "Open311").
///
/// Mapping: `service_code` is a catalogue category; a service request is an incident;
/// `status` is `closed` once the incident is closed, rejected or merged, `open` before;
/// `expected_datetime` is the deadline set at registration or dispatch; `agency_responsible` is
/// the category's responsible unit; `status_notes` the last note of the lifecycle.
struct Open311API<Context: RequestContext> {
    let intake: Intake
    let keys: IntakeKeys
    let maxBodySize: Int
    let now: @Sendable () -> Date

    static var prefix: String { "/open311/v2" }

    func register(on router: Router<Context>) {
        router.get("\(Self.prefix)/{file}") { request, context in
            guard let (name, format) = split(context.parameters.get("file")) else { return unknownFormat() }
            switch name {
            case "services": return services(format)
            case "requests": return try await requests(request, format)
            default: return notFound(format, "no resource '\(name)'")
            }
        }
        router.post("\(Self.prefix)/{file}") { request, context in
            guard let (name, format) = split(context.parameters.get("file")) else { return unknownFormat() }
            guard name == "requests" else { return notFound(format, "POST goes to requests.json or requests.xml") }
            return try await create(request, format)
        }
        router.get("\(Self.prefix)/services/{file}") { _, context in
            guard let (code, format) = split(context.parameters.get("file")) else { return unknownFormat() }
            return definition(code, format)
        }
        router.get("\(Self.prefix)/requests/{file}") { _, context in
            guard let (id, format) = split(context.parameters.get("file")) else { return unknownFormat() }
            guard let incident = try await intake.incident(id: id) else { return notFound(format, "no service request '\(id)'") }
            return render(.ok, requestDocument([incident.publicView]), format)
        }
        router.get("\(Self.prefix)/tokens/{file}") { _, context in
            guard let (token, format) = split(context.parameters.get("file")) else { return unknownFormat() }
            guard let incident = try await intake.incident(token: token) else { return notFound(format, "no token '\(token)'") }
            return render(
                .ok,
                Open311Document(
                    root: "service_requests",
                    element: "request",
                    records: [
                        [("service_request_id", .text(incident.id)), ("token", .text(incident.token))]
                    ]
                ),
                format
            )
        }
    }

    /// `requests.json` → ("requests", .json); nil without a `.json` or `.xml` ending.
    func split(_ file: String?) -> (String, Open311Document.Format)? {
        guard let file, let dot = file.lastIndex(of: "."), let format = Open311Document.Format(rawValue: String(file[file.index(after: dot)...]))
        else {
            return nil
        }
        return (String(file[..<dot]), format)
    }

    /// Without a known format, the spec's error list in JSON.
    func unknownFormat() -> Response { notFound(.json, "the resource must end in .json or .xml") }

    func render(_ status: HTTPResponse.Status, _ document: Open311Document, _ format: Open311Document.Format) -> Response {
        HTTPSupport.text(status, document.render(format), contentType: format.contentType)
    }

    func fail(_ status: HTTPResponse.Status, _ format: Open311Document.Format, _ descriptions: [String]) -> Response {
        render(status, .errors(status.code, descriptions), format)
    }

    func notFound(_ format: Open311Document.Format, _ description: String) -> Response { fail(.notFound, format, [description]) }

    // MARK: Services

    func services(_ format: Open311Document.Format) -> Response {
        let records: [[(String, Open311Document.Value)]] = intake.district.categories.map { category in
            [
                ("service_code", .text(category.serviceCode)), ("service_name", .text("\(category.nameEn) / \(category.nameZh)")),
                ("description", .text(category.filingCriteria)), ("metadata", .flag(true)), ("type", .text("realtime")),
                ("keywords", .text(category.keywords.joined(separator: ","))), ("group", .text(category.group)),
            ]
        }
        return render(.ok, Open311Document(root: "services", element: "service", records: records), format)
    }

    /// The attributes every service takes (from the catalogue: its priorities), in the spec's shape.
    static func attributes(for category: Category) -> [(code: String, description: String, values: [(key: String, name: String)])] {
        [
            ("priority", "How urgent it is (default: \(category.priority.rawValue))", Priority.allCases.map { ($0.rawValue, $0.rawValue) }),
            ("wants_updates", "Send the reporter progress updates", [("yes", "yes"), ("no", "no")]),
        ]
    }

    func definition(_ code: String, _ format: Open311Document.Format) -> Response {
        guard let category = intake.district.categoriesByServiceCode[code] else { return notFound(format, "no service '\(code)'") }
        let attributes = Self.attributes(for: category).enumerated().map { order, attribute -> [(String, Open311Document.Value)] in
            [
                ("variable", .flag(true)), ("code", .text(attribute.code)), ("datatype", .text("singlevaluelist")), ("required", .flag(false)),
                ("datatype_description", .text(nil)), ("order", .number(Double(order + 1))), ("description", .text(attribute.description)),
                ("values", .records("value", attribute.values.map { [("key", .text($0.key)), ("name", .text($0.name))] })),
            ]
        }
        let record: [(String, Open311Document.Value)] = [
            ("service_code", .text(category.serviceCode)), ("attributes", .records("attribute", attributes)),
        ]
        return render(.ok, Open311Document(root: "service_definition", element: "", records: [record], single: true), format)
    }

    // MARK: Requests

    func requestDocument(_ incidents: [Incident]) -> Open311Document {
        let records: [[(String, Open311Document.Value)]] = incidents.map { incident in
            let category = intake.district.categoriesByCode[incident.category]
            return [
                ("service_request_id", .text(incident.id)), ("status", .text(incident.status.isClosed ? "closed" : "open")),
                ("status_notes", .text(incident.statusNotes)), ("service_name", .text(category.map { "\($0.nameEn) / \($0.nameZh)" })),
                ("service_code", .text(incident.serviceCode)), ("description", .text(incident.description)),
                ("agency_responsible", .text(incident.agency)), ("service_notice", .text(nil)),
                ("requested_datetime", .text(RFC3339.format(incident.createdAt))), ("updated_datetime", .text(RFC3339.format(incident.updatedAt))),
                ("expected_datetime", .text(incident.deadline.map(RFC3339.format))), ("address", .text(incident.address)),
                ("address_id", .text(nil)), ("zipcode", .text(nil)), ("lat", .number(incident.location?.latitude)),
                ("long", .number(incident.location?.longitude)), ("media_url", .text(incident.mediaUrls.first)),
            ]
        }
        return Open311Document(root: "service_requests", element: "request", records: records)
    }

    /// GET requests: by ids, or filtered by service code, dates and status; the spec's defaults —
    /// the last 90 days, at most 1,000 requests.
    func requests(_ request: Request, _ format: Open311Document.Format) async throws -> Response {
        let known = ["service_request_id", "service_code", "start_date", "end_date", "status", "jurisdiction_id"]
        var errors: [String] = []
        for (name, _) in request.uri.queryParameters where !known.contains(String(name)) { errors.append("unknown parameter '\(name)'") }
        var query = IntakeStore.Query(limit: 1000)
        func list(_ name: String) -> [String] { HTTPSupport.query(request, name).map { $0.split(separator: ",").map(String.init) } ?? [] }
        query.ids = list("service_request_id")
        if query.ids.isEmpty {
            for code in list("service_code") {
                if let category = intake.district.categoriesByServiceCode[code] {
                    query.categories.append(category.code)
                } else {
                    errors.append("service_code '\(code)' is not a service")
                }
            }
            if query.categories.isEmpty && !list("service_code").isEmpty { query.categories = ["\u{0}none"] }
            for name in ["start_date", "end_date"] {
                guard let text = HTTPSupport.query(request, name) else { continue }
                guard let date = RFC3339.parse(text) else {
                    errors.append("\(name) is not a W3C date-time, e.g. 2026-11-27T10:00:00Z")
                    continue
                }
                if name == "start_date" { query.since = date } else { query.until = date }
            }
            if query.since == nil && query.until == nil { query.since = now().addingTimeInterval(-90 * 86400) }
            for status in list("status") {
                switch status {
                case "open": query.statuses += IncidentStatus.allCases.filter { !$0.isClosed }
                case "closed": query.statuses += IncidentStatus.allCases.filter(\.isClosed)
                default: errors.append("status must be open or closed")
                }
            }
        }
        guard errors.isEmpty else { return fail(.badRequest, format, errors) }
        return render(.ok, requestDocument(try await intake.list(query).incidents.map(\.publicView)), format)
    }

    /// POST requests: form fields as in the spec; `api_key` identifies the system.
    func create(_ request: Request, _ format: Open311Document.Format) async throws -> Response {
        guard let body = try await HTTPSupport.body(of: request, limit: maxBodySize) else {
            return fail(.contentTooLarge, format, ["the body is larger than \(maxBodySize) bytes"])
        }
        guard let pairs = HTTPSupport.form(body) else { return fail(.badRequest, format, ["the body must be application/x-www-form-urlencoded"]) }
        var fields: [String: String] = [:]
        var attributes: [String: String] = [:]
        var errors: [String] = []
        let known = [
            "api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id", "email", "device_id", "account_id",
            "first_name", "last_name", "phone", "description", "media_url",
        ]
        for (name, value) in pairs {
            if name.hasPrefix("attribute[") && name.hasSuffix("]") {
                attributes[String(name.dropFirst(10).dropLast())] = value
            } else if known.contains(name) {
                if fields[name] != nil { errors.append("\(name) is given twice") }
                fields[name] = value
            } else {
                errors.append("unknown field '\(name)'")
            }
        }
        let client: IntakeClient
        switch keys.check(key: fields["api_key"] ?? HTTPSupport.query(request, "api_key")) {
        case .allowed(let found): client = found
        case .unknownKey: return fail(.forbidden, format, [fields["api_key"] == nil ? "api_key is required" : "api_key is not valid"])
        case .rateLimited(let seconds):
            var response = fail(.tooManyRequests, format, ["rate limit reached; retry after \(Int(seconds.rounded(.up)))s"])
            response.headers[.retryAfterSeconds] = String(Int(seconds.rounded(.up)))
            return response
        }
        var category: Category?
        if let code = fields["service_code"], !code.isEmpty {
            category = intake.district.categoriesByServiceCode[code]
            if category == nil { errors.append("service_code '\(code)' is not a service (GET services.\(format.rawValue))") }
        } else {
            errors.append("service_code is required")
        }
        var location: GeoPoint?
        switch (fields["lat"], fields["long"]) {
        case (nil, nil):
            if (fields["address_string"] ?? "").isEmpty && (fields["address_id"] ?? "").isEmpty {
                errors.append("a location is required: lat and long, or address_string, or address_id")
            }
        case (let lat?, let long?):
            if let latitude = Double(lat), let longitude = Double(long), (-90...90).contains(latitude), (-180...180).contains(longitude) {
                location = GeoPoint(latitude: latitude, longitude: longitude)
            } else {
                errors.append("lat must be a number in -90…90 and long in -180…180")
            }
        default: errors.append("lat and long go together")
        }
        let description = fields["description"].flatMap { $0.isEmpty ? nil : $0 }
        if let description {
            if description.count > ReportInput.maxDescription { errors.append("description is longer than \(ReportInput.maxDescription) characters") }
            errors += ReportInput.checkText(description, field: "description").map { "description: \($0.reason)" }
        }
        for name in ["address_string", "first_name", "last_name"] {
            guard let value = fields[name] else { continue }
            if value.count > 200 { errors.append("\(name) is longer than 200 characters") }
            errors += ReportInput.checkText(value, field: name).map { "\(name): \($0.reason)" }
        }
        if let phone = fields["phone"] { errors += ReportInput.checkPhone(phone, field: "phone").map { "phone: \($0.reason)" } }
        if let email = fields["email"], !email.isEmpty, email.count > 254 || !email.contains("@") || email.contains(" ") {
            errors.append("email is not an address")
        }
        var media: [String] = []
        if let url = fields["media_url"], !url.isEmpty {
            if ReportInput.checkMediaURL(url, field: "media_url") != nil {
                errors.append("media_url must be an http or https URL")
            } else {
                media = [url]
            }
        }
        var priority = category?.priority ?? .normal
        var wantsUpdates = false
        for (code, value) in attributes.sorted(by: { $0.key < $1.key }) {
            switch code {
            case "priority":
                if let value = Priority(rawValue: value) {
                    priority = value
                } else {
                    errors.append("attribute[priority] must be normal, urgent or emergency")
                }
            case "wants_updates":
                if value == "yes" || value == "no" {
                    wantsUpdates = value == "yes"
                } else {
                    errors.append("attribute[wants_updates] must be yes or no")
                }
            default: errors.append("attribute[\(code)] is not an attribute of this service")
            }
        }
        guard errors.isEmpty, let category else { return fail(.badRequest, format, errors) }
        let name = [fields["first_name"], fields["last_name"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        let hasReporter = !name.isEmpty || !(fields["phone"] ?? "").isEmpty || wantsUpdates
        let input = ReportInput(
            category: category,
            description: description ?? category.nameEn,
            priority: priority,
            channel: .open311,
            grid: nil,
            location: location,
            address: fields["address_string"].flatMap { $0.isEmpty ? nil : $0 },
            reporter: hasReporter ? Reporter(name: name.isEmpty ? nil : name, phone: fields["phone"], wantsUpdates: wantsUpdates) : nil,
            mediaURLs: media,
            externalID: nil,
            reportedAt: nil,
            attributes: attributes.merging(fields.filter { ["email", "device_id", "account_id", "address_id"].contains($0.key) }) { $1 }
        )
        let incident: Incident
        switch try await intake.report(input, client: client.name, idempotencyKey: request.headers[.idempotencyKey]) {
        case .created(let created, _), .replayed(let created, _): incident = created
        case .conflict(let previous, _):
            return fail(.badRequest, format, ["Idempotency-Key was used for \(previous.id) with a different request"])
        }
        let notice = incident.status == .triage ? "Received; the location is outside every grid, an operator will place it." : "Received."
        return render(
            .created,
            Open311Document(
                root: "service_requests",
                element: "request",
                records: [
                    [
                        ("service_request_id", .text(incident.id)), ("token", .text(incident.token)), ("service_notice", .text(notice)),
                        ("account_id", .text(fields["account_id"])),
                    ]
                ]
            ),
            format
        )
    }
}
