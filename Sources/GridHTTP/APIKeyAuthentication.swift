import GridSchema
import GridSecurity
import HTTPTypes
import Hummingbird

/// A request turned away, with the answer to send.
public struct Refusal: Error {
    public let response: Response
    public init(_ response: Response) { self.response = response }
}

/// API keys on the workers' HTTP APIs: `Authorization: Bearer KEY` or `X-API-Key: KEY`.
public enum APIKeyAuthentication {
    /// The client behind a request, or the answer that refuses it: 401 without a known key, 429
    /// with `Retry-After` past the client's rate.
    /// `fallback`: a key from elsewhere (a query parameter) when the headers have none.
    public static func authenticate<Profile>(
        _ request: Request,
        keys: APIKeyRing<Profile>,
        fallback: String? = nil
    ) -> Result<APIClient<Profile>, Refusal> {
        let header = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        let key = header ?? request.headers[.apiKey] ?? fallback
        switch keys.check(key: key) {
        case .allowed(let client): return .success(client)
        case .unknownKey:
            return .failure(
                Refusal(
                    HTTPSupport.errors(
                        .unauthorized,
                        [FieldError("Authorization", key == nil ? "an API key is required (Authorization: Bearer KEY)" : "unknown API key")],
                        headers: [.wwwAuthenticate: "Bearer"]
                    )
                )
            )
        case .rateLimited(let seconds):
            let retry = String(Int(seconds.rounded(.up)))
            return .failure(
                Refusal(
                    HTTPSupport.errors(
                        .tooManyRequests,
                        [FieldError("Authorization", "rate limit reached; retry after \(retry)s")],
                        headers: [.retryAfterSeconds: retry]
                    )
                )
            )
        }
    }
}
