import GridSchema
import GridSecurity
import HTTPTypes
import Hummingbird
import HummingbirdAuth

/// The request context of a worker's HTTP API: the client the API-key middleware admitted
/// (HummingbirdAuth's `identity`), for the routes of a group behind ``APIKeyAuthenticator``.
public struct WorkerRequestContext<Profile: Sendable & Equatable>: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: APIClient<Profile>?

    public init(source: Source) {
        coreContext = .init(source: source)
        identity = nil
    }

    /// The admitted client; a route outside the authenticated group has none (401).
    public func client() throws -> APIClient<Profile> {
        guard let identity else { throw APIRefusal.unauthorized(key: nil) }
        return identity
    }

    /// The admitted client if its profile allows what the route does, else a 403 saying what it
    /// `lacks` ("client 'ops' lacks the scope 'operator' this needs").
    public func client(lacking what: String, unless allows: (Profile) -> Bool) throws -> APIClient<Profile> {
        let client = try client()
        guard allows(client.profile) else {
            throw APIRefusal(.forbidden, [FieldError("Authorization", "client '\(client.name)' lacks \(what)")])
        }
        return client
    }
}

/// API keys on the workers' HTTP APIs, as middleware on a route group: `Authorization: Bearer KEY`
/// or `X-API-Key: KEY` (or, where given, a query parameter, for browsers' event streams, which
/// cannot send headers). A request without a known key gets 401, one past its client's rate 429
/// with `Retry-After`; the routes behind it find the client in the context.
public struct APIKeyAuthenticator<Profile: Sendable & Equatable>: AuthenticatorMiddleware {
    public typealias Context = WorkerRequestContext<Profile>
    let keys: APIKeyRing<Profile>
    let queryParameter: String?

    public init(keys: APIKeyRing<Profile>, queryParameter: String? = nil) {
        self.keys = keys
        self.queryParameter = queryParameter
    }

    public func authenticate(request: Request, context: Context) async throws -> APIClient<Profile>? {
        let bearer = request.headers.bearer?.token
        let key = bearer ?? request.headers[.apiKey] ?? queryParameter.flatMap { HTTPSupport.query(request, $0) }
        switch keys.check(key: key) {
        case .allowed(let client): return client
        case .unknownKey: throw APIRefusal.unauthorized(key: key)
        case .rateLimited(let seconds):
            let retry = String(Int(seconds.rounded(.up)))
            throw APIRefusal(
                .tooManyRequests,
                [FieldError("Authorization", "rate limit reached; retry after \(retry)s")],
                headers: [.retryAfterSeconds: retry]
            )
        }
    }
}

/// A request turned away, answered in the APIs' error shape (`{"errors": [{"field", "reason"}]}`).
public struct APIRefusal: HTTPResponseError {
    public let status: HTTPResponse.Status
    public let errors: [FieldError]
    public let headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ errors: [FieldError], headers: HTTPFields = [:]) {
        self.status = status
        self.errors = errors
        self.headers = headers
    }

    static func unauthorized(key: String?) -> APIRefusal {
        APIRefusal(
            .unauthorized,
            [FieldError("Authorization", key == nil ? "an API key is required (Authorization: Bearer KEY)" : "unknown API key")],
            headers: [.wwwAuthenticate: "Bearer"]
        )
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        HTTPSupport.errors(status, errors, headers: headers)
    }
}
