
import Foundation
import GridConfiguration
import GridSchema
import Synchronization

/// An external system allowed to report: its name, its key's SHA-256, its rate limit.
public struct APIClient: Sendable, Equatable {
    public var name: String
    /// Lower-case hex SHA-256 of the key; the key itself is never stored.
    public var keySHA256: String
    /// Sustained requests per second; bursts up to twice that.
    public var rate: Double
    /// The channel its reports carry unless they say otherwise.
    public var channel: ReportChannel
}

/// The API keys file (`auth.keys-file`):
///
/// ```yaml
/// clients:
///   - name: hotline-12345
///     key-sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08   # printf %s KEY | sha256sum
///     rate: 50
///     channel: hotline
/// ```
public enum APIKeysFile {
    public static func load(_ file: String) throws(DefinitionError) -> [APIClient] {
        let root = try YAMLDefinition.load(file: file)
        try root.allowOnly(["clients"])
        var clients: [APIClient] = []
        for entry in try root.objectList("clients") {
            try entry.allowOnly(["name", "key-sha256", "rate", "channel"])
            let name = try entry.requiredString("name")
            let hash = try entry.requiredString("key-sha256").lowercased()
            guard hash.count == 64, hash.allSatisfy({ $0.isHexDigit }) else {
                throw entry.error("key-sha256", "must be 64 hex digits: the SHA-256 of the key (printf %s KEY | sha256sum), never the key itself")
            }
            guard !clients.contains(where: { $0.name == name }) else { throw entry.error("name", "'\(name)' is listed twice") }
            guard !clients.contains(where: { $0.keySHA256 == hash }) else { throw entry.error("key-sha256", "two clients share one key") }
            let rate = Double(try entry.int("rate", default: 100, in: 1...100_000))
            let channel = try entry.choice("channel", default: ReportChannel.other)
            clients.append(APIClient(name: name, keySHA256: hash, rate: rate, channel: channel))
        }
        return clients
    }
}

/// Checks API keys (by hash, in constant time) and applies each client's rate limit.
public final class APIKeyRing: Sendable {
    public enum Verdict: Equatable, Sendable {
        case allowed(APIClient)
        case unknownKey
        case rateLimited(retryAfter: Double)
    }

    private let clients: [APIClient]
    /// Development mode: every request is the client `development`.
    public let open: Bool
    private let buckets: Mutex<[String: (tokens: Double, at: Double)]>
    private let clock: @Sendable () -> Double

    public init(clients: [APIClient], open: Bool = false, clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        self.clients = clients
        self.open = open
        self.buckets = Mutex([:])
        self.clock = clock
    }

    public static let development = APIClient(name: "development", keySHA256: "", rate: 1_000_000, channel: .other)

    public func check(key: String?) -> Verdict {
        if open { return .allowed(Self.development) }
        guard let key, !key.isEmpty else { return .unknownKey }
        let digest = SHA256.hex(Array(key.utf8))
        // Compare against every client without stopping early: timing says nothing about which matched.
        var found: APIClient?
        for client in clients where Self.constantTimeEqual(client.keySHA256, digest) { found = client }
        guard let client = found else { return .unknownKey }
        return take(for: client)
    }

    /// A token bucket per client: `rate` tokens a second, at most `2 × rate` saved up.
    private func take(for client: APIClient) -> Verdict {
        let now = clock()
        return buckets.withLock { buckets in
            var bucket = buckets[client.name] ?? (client.rate * 2, now)
            bucket.tokens = min(client.rate * 2, bucket.tokens + (now - bucket.at) * client.rate)
            bucket.at = now
            guard bucket.tokens >= 1 else {
                buckets[client.name] = bucket
                return .rateLimited(retryAfter: (1 - bucket.tokens) / client.rate)
            }
            bucket.tokens -= 1
            buckets[client.name] = bucket
            return .allowed(client)
        }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
