import Foundation
import GridSecurity

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// HTTP POST of the envelope as JSON, signed with HMAC-SHA256:
/// `X-GridBus-Signature: sha256=HEX(HMAC(secret, TIMESTAMP + "." + BODY))` with
/// `X-GridBus-Timestamp: TIMESTAMP` (Unix seconds), and `Idempotency-Key: <messageId>`.
/// 2xx is delivered; 408, 425, 429, 5xx, timeouts and connection errors are tried again; any other
/// answer has failed for good.
public struct WebhookChannel: NotificationChannel {
    public let name: String
    /// A fixed URL (a gateway), or nil to post to each recipient's own webhook address.
    public let url: URL?
    let secret: [UInt8]
    public let timeout: Double
    public let concurrency: Int
    public var contact: ContactKind { url == nil ? .webhook : .none }
    public var style: MessageStyle { .structured }
    let session: URLSession
    let clock: @Sendable () -> Date

    public init(name: String = "webhook", url: URL?, secret: [UInt8], timeout: Double = 5, concurrency: Int = 16, clock: @escaping @Sendable () -> Date = Date.init) {
        self.name = name
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.concurrency = concurrency
        self.clock = clock
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpMaximumConnectionsPerHost = concurrency
        session = URLSession(configuration: configuration)
    }

    /// The signature a receiver recomputes to check a delivery.
    public static func signature(secret: [UInt8], timestamp: String, body: [UInt8]) -> String {
        "sha256=" + HMAC.sha256Hex(key: secret, message: Array(timestamp.utf8) + [UInt8(ascii: ".")] + body)
    }

    public func deliver(_ envelope: Envelope) async -> DeliveryOutcome {
        guard let target = url ?? URL(string: envelope.address), ["http", "https"].contains(target.scheme?.lowercased() ?? "") else {
            return .failed("'\(envelope.address)' is not an http(s) URL")
        }
        let body: Data
        do { body = try envelopeEncoder.encode(envelope) } catch { return .failed("cannot encode: \(error)") }
        let timestamp = String(Int(clock().timeIntervalSince1970))
        var request = URLRequest(url: target, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(timestamp, forHTTPHeaderField: "X-GridBus-Timestamp")
        request.setValue(Self.signature(secret: secret, timestamp: timestamp, body: Array(body)), forHTTPHeaderField: "X-GridBus-Signature")
        request.setValue(envelope.messageId, forHTTPHeaderField: "Idempotency-Key")
        do {
            let (data, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            switch status {
            case 200..<300:
                let answer = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                return .delivered(providerMessageId: answer?["id"] as? String)
            case 408, 425, 429, 500..<600: return .retry("HTTP \(status)")
            default: return .failed("HTTP \(status): \(String(decoding: data.prefix(200), as: UTF8.self))")
            }
        } catch {
            return .retry("no answer: \(error.localizedDescription)")
        }
    }
}
