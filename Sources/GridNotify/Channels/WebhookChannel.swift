import AsyncHTTPClient
import Foundation
import GridJSON
import GridSchema
import GridSecurity
import NIOCore
import NIOHTTP1

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
    /// AsyncHTTPClient's process-wide client on NIO's shared event loops (at most 8 connections per
    /// host; the delivery loop keeps `concurrency` requests in flight). `URLSession` hopped between
    /// libcurl's thread, libdispatch and the concurrency pool for every request (benchmarks.md,
    /// "grid-notifier's webhook client, A/B": 19 % less CPU and 25 % more notices per second in (m)).
    let client = HTTPClient.shared
    let clock: @Sendable () -> Date

    public init(
        name: String = "webhook",
        url: URL?,
        secret: [UInt8],
        timeout: Double = 5,
        concurrency: Int = 16,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.name = name
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.concurrency = concurrency
        self.clock = clock
    }

    /// The signature a receiver recomputes to check a delivery.
    public static func signature(secret: [UInt8], timestamp: String, body: [UInt8]) -> String {
        "sha256=" + HMAC.sha256Hex(key: secret, message: Array(timestamp.utf8) + [UInt8(ascii: ".")] + body)
    }

    public func deliver(_ envelope: Envelope) async -> DeliveryOutcome {
        guard let target = url ?? URL(string: envelope.address), ["http", "https"].contains(target.scheme?.lowercased() ?? "") else {
            return .failed("'\(envelope.address)' is not an http(s) URL")
        }
        let body: [UInt8]
        do { body = try envelopeEncoder.encode(envelope) } catch { return .failed("cannot encode: \(error)") }
        let timestamp = String(Int(clock().timeIntervalSince1970))
        var request = HTTPClientRequest(url: target.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-GridBus-Timestamp", value: timestamp)
        request.headers.add(name: "X-GridBus-Signature", value: Self.signature(secret: secret, timestamp: timestamp, body: body))
        request.headers.add(name: "Idempotency-Key", value: envelope.messageId)
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let status = Int(response.status.code)
            // Only the provider's message id and a failure's first words are read; a larger answer
            // changes nothing about the status.
            let data = (try? await response.body.collect(upTo: 64 << 10)).map { Data($0.readableBytesView) } ?? Data()
            switch status {
            case 200..<300:
                let answer = try? JSONValue(parsing: Array(data))
                return .delivered(providerMessageId: answer?["id"]?.stringValue)
            case 408, 425, 429, 500..<600: return .retry("HTTP \(status)")
            default: return .failed("HTTP \(status): \(String(decoding: data.prefix(200), as: UTF8.self))")
            }
        } catch {
            return .retry("no answer: \(String(describing: error))")
        }
    }
}
