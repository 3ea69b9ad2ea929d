import Foundation
import GridJSON
import GridSchema
import HTTPTypes
import Hummingbird
import NIOCore

/// Small helpers shared by the workers' HTTP APIs: JSON answers, the `{"errors":[{field, reason}]}`
/// shape every API uses, bodies with a limit, forms, query parameters.
public enum HTTPSupport {
    /// GridJSON's format, without Foundation's cost (every answer of every API).
    public static let jsonEncoder = JSONTreeEncoder()

    public static func json(_ status: HTTPResponse.Status, _ value: some Encodable, headers: HTTPFields = [:]) -> Response {
        json(status, encoded: (try? jsonEncoder.encode(value)) ?? Array("{}".utf8), headers: headers)
    }

    public static func json(_ status: HTTPResponse.Status, encoded body: some Sequence<UInt8>, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    public static func text(_ status: HTTPResponse.Status, _ body: String, contentType: String) -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The native API's error body: every field at fault and why.
    public static func errors(_ status: HTTPResponse.Status, _ errors: [FieldError], headers: HTTPFields = [:]) -> Response {
        struct Body: Encodable { let errors: [FieldError] }
        return json(status, Body(errors: errors), headers: headers)
    }

    /// The request body, or nil when it exceeds `limit` bytes.
    public static func body(of request: Request, limit: Int) async throws -> Data? {
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            return nil
        }
    }

    /// `application/x-www-form-urlencoded` (Open311's POST): pairs in order; `+` is a space.
    public static func form(_ data: Data) -> [(String, String)]? {
        guard let text = String(data: data, encoding: .utf8) else { return nil }
        var pairs: [(String, String)] = []
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(pieces[0]), let value = decode(pieces.count > 1 ? pieces[1] : "") else { return nil }
            pairs.append((name, value))
        }
        return pairs
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// A query parameter, percent-decoded.
    public static func query(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters[Substring(name)].map { String($0).removingPercentEncoding ?? String($0) }
    }
}

extension HTTPField.Name {
    public static let idempotencyKey = Self("Idempotency-Key")!
    public static let idempotentReplayed = Self("Idempotent-Replayed")!
    public static let apiKey = Self("X-API-Key")!
    public static let retryAfterSeconds = Self("Retry-After")!
}
