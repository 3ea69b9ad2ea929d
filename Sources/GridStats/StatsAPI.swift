import Foundation
import GridBusClient
import GridConfiguration
import GridDistrict
import GridHTTP
import GridSchema
import GridSecurity
import GridStore
import HTTPTypes
import Hummingbird
import NIOCore

/// Readers of the statistics: dashboards and exporters. Every client may read everything.
public struct StatsAccess: Sendable, Equatable {
    public init() {}
}

public typealias StatsKeys = APIKeyRing<StatsAccess>

public enum StatsClients {
    public static func load(_ file: String) throws(DefinitionError) -> [APIClient<StatsAccess>] {
        try APIKeysFile.load(file, profileFields: []) { (_) throws(DefinitionError) in StatsAccess() }
    }
}

/// `/api/v1/…` on a group behind the API-key middleware, and the dashboard's page (docs/stats.md).
struct StatsAPI {
    typealias Context = WorkerRequestContext<StatsAccess>
    let statistics: Statistics
    let assets: DashboardAssets

    /// The routes that need a key.
    func register(on api: RouterGroup<Context>) {
        api.get("/indicators") { request, _ in try await indicators(request, csv: false) }
        api.get("/indicators.csv") { request, _ in try await indicators(request, csv: true) }
        api.get("/ranking") { request, _ in try await ranking(request) }
        api.get("/points") { request, _ in
            let (totals, history) = try await statistics.points(member: HTTPSupport.query(request, "member"))
            return HTTPSupport.json(.ok, PointsAnswer(totals: totals, history: history))
        }
        api.get("/emergencies") { request, _ in
            HTTPSupport.json(
                .ok,
                ["emergencies": try await statistics.emergencies(from: HTTPSupport.query(request, "from"), to: HTTPSupport.query(request, "to"))]
            )
        }
        api.get("/grids") { _, _ in HTTPSupport.json(.ok, encoded: assets.gridsGeoJSON, headers: [:]) }
        api.get("/stream") { _, _ in stream() }
    }

    /// The page itself needs no key (it asks for one; the numbers carry no personal data).
    func registerDashboard(on router: Router<Context>) {
        router.get("/") { _, _ in assets.response("index.html") }
        router.get("/assets/{name}") { _, context in assets.response(context.parameters.get("name") ?? "") }
    }

    struct PointsAnswer: Encodable {
        let totals: [Statistics.PointsTotal]
        let history: [Statistics.PointsEntry]
    }

    /// The query of `from`, `to`, `by`, `town`, `community`, `grid`, `category` (default: today).
    func query(_ request: Request) -> Result<IndicatorQuery, FieldError> {
        let today = statistics.day(statistics.now())
        let from = HTTPSupport.query(request, "from") ?? today
        var query = IndicatorQuery(from: from, to: HTTPSupport.query(request, "to") ?? max(from, today))
        if let by = HTTPSupport.query(request, "by") {
            guard let dimension = IndicatorQuery.Dimension(rawValue: by) else {
                return .failure(
                    FieldError(
                        "by",
                        "'\(by)' is not one of \(IndicatorQuery.Dimension.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                )
            }
            query.by = dimension
        }
        query.town = HTTPSupport.query(request, "town")
        query.community = HTTPSupport.query(request, "community")
        query.grid = HTTPSupport.query(request, "grid")
        query.category = HTTPSupport.query(request, "category")
        return .success(query)
    }

    func indicators(_ request: Request, csv: Bool) async throws -> Response {
        let result: Result<[IndicatorRow], FieldError>
        switch query(request) {
        case .failure(let problem): result = .failure(problem)
        case .success(let query): result = try await statistics.indicators(query)
        }
        switch result {
        case .failure(let problem): return HTTPSupport.errors(.badRequest, [problem])
        case .success(let rows) where csv:
            var response = HTTPSupport.text(.ok, IndicatorCSV.render(rows), contentType: "text/csv; charset=utf-8")
            response.headers[.contentDisposition] = "attachment; filename=\"gridbus-indicators.csv\""
            return response
        case .success(let rows): return HTTPSupport.json(.ok, ["rows": rows])
        }
    }

    func ranking(_ request: Request) async throws -> Response {
        var query: IndicatorQuery
        switch self.query(request) {
        case .success(let parsed): query = parsed
        case .failure(let problem): return HTTPSupport.errors(.badRequest, [problem])
        }
        if HTTPSupport.query(request, "by") == nil { query.by = .grid }
        var minimum: Int?
        if let text = HTTPSupport.query(request, "minSample") {
            guard let value = Int(text), value >= 1 else {
                return HTTPSupport.errors(.badRequest, [FieldError("minSample", "must be a whole number of at least 1")])
            }
            minimum = value
        }
        let order = HTTPSupport.query(request, "order") ?? "desc"
        guard ["asc", "desc"].contains(order) else { return HTTPSupport.errors(.badRequest, [FieldError("order", "must be asc or desc")]) }
        switch try await statistics.ranking(
            query,
            indicator: HTTPSupport.query(request, "indicator") ?? "onTimeClosureRate",
            minimumSample: minimum,
            descending: order == "desc"
        ) {
        case .failure(let problem): return HTTPSupport.errors(.badRequest, [problem])
        case .success(let rows): return HTTPSupport.json(.ok, ["ranking": rows])
        }
    }

    /// Server-sent events: `event: changed` with the grids whose numbers moved, as they move.
    func stream() -> Response {
        let (_, updates) = statistics.updates()
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            for await grids in updates {
                try await writer.write(ByteBuffer(string: "event: changed\ndata: \(grids)\n\n"))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

/// The indicator rows as RFC 4180 CSV, one column per field.
enum IndicatorCSV {
    static let columns: [(String, @Sendable (IndicatorRow) -> String)] = [
        ("key", { $0.key }), ("reports", { "\($0.reports)" }), ("registered", { "\($0.registered)" }), ("rejected", { "\($0.rejected)" }),
        ("merged", { "\($0.merged)" }), ("dispatched", { "\($0.dispatched)" }), ("timelyDispatchRate", { number($0.timelyDispatchRate) }),
        ("accurateDispatchRate", { number($0.accurateDispatchRate) }), ("acknowledged", { "\($0.acknowledged)" }),
        ("acknowledgeMeanSeconds", { number($0.acknowledgeMeanSeconds) }), ("acknowledgeP90Seconds", { number($0.acknowledgeP90Seconds) }),
        ("handled", { "\($0.handled)" }), ("handleMeanSeconds", { number($0.handleMeanSeconds) }),
        ("handleP90Seconds", { number($0.handleP90Seconds) }),
        ("onTimeHandlingRate", { number($0.onTimeHandlingRate) }), ("closed", { "\($0.closed)" }), ("closureRate", { number($0.closureRate) }),
        ("onTimeClosureRate", { number($0.onTimeClosureRate) }), ("reworkRate", { number($0.reworkRate) }), ("escalations", { "\($0.escalations)" }),
        ("becameOverdue", { "\($0.becameOverdue)" }), ("reopened", { "\($0.reopened)" }), ("overdueOpen", { "\($0.overdueOpen)" }),
        ("notificationSuccessRate", { number($0.notificationSuccessRate) }),
    ]

    static func number(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "" }

    static func field(_ text: String) -> String {
        text.contains(where: { [",", "\"", "\n", "\r"].contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    static func render(_ rows: [IndicatorRow]) -> String {
        var text = columns.map(\.0).joined(separator: ",") + "\r\n"
        for row in rows { text += columns.map { field($0.1(row)) }.joined(separator: ",") + "\r\n" }
        return text
    }
}
