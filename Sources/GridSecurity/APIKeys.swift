import Foundation
import GridConfiguration
import Synchronization

/// A system or application allowed to call a worker's HTTP API: its name, its key's SHA-256, its
/// rate limit, and what the worker attaches to it (`Profile`: the intake's report channel, the
/// dispatcher's scopes).
public struct APIClient<Profile: Sendable & Equatable>: Sendable, Equatable {
    public var name: String
    /// Lower-case hex SHA-256 of the key; the key itself is never stored.
    public var keySHA256: String
    /// Sustained requests per second; bursts up to twice that.
    public var rate: Double
    public var profile: Profile

    public init(name: String, keySHA256: String, rate: Double, profile: Profile) {
        self.name = name
        self.keySHA256 = keySHA256
        self.rate = rate
        self.profile = profile
    }
}

/// An API keys file (`auth.keys-file` of the intake and the dispatcher):
///
/// ```yaml
/// clients:
///   - name: hotline-12345
///     key-sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08   # printf %s KEY | sha256sum
///     rate: 50
///     channel: hotline          # a field of the worker's own (its `profileFields`)
/// ```
public enum APIKeysFile {
    /// Reads the clients; `profile` reads each entry's worker-specific fields, named in `profileFields`.
    public static func load<Profile>(
        _ file: String,
        profileFields: [String],
        profile: (YAMLDefinition) throws(DefinitionError) -> Profile
    ) throws(DefinitionError) -> [APIClient<Profile>] {
        let root = try YAMLDefinition.load(file: file)
        try root.allowOnly(["clients"])
        var clients: [APIClient<Profile>] = []
        for entry in try root.objectList("clients") {
            try entry.allowOnly(["name", "key-sha256", "rate"] + profileFields)
            let name = try entry.requiredString("name")
            let hash = try entry.requiredString("key-sha256").lowercased()
            guard hash.count == 64, hash.allSatisfy({ $0.isHexDigit }) else {
                throw entry.error("key-sha256", "must be 64 hex digits: the SHA-256 of the key (printf %s KEY | sha256sum), never the key itself")
            }
            guard !clients.contains(where: { $0.name == name }) else { throw entry.error("name", "'\(name)' is listed twice") }
            guard !clients.contains(where: { $0.keySHA256 == hash }) else { throw entry.error("key-sha256", "two clients share one key") }
            let rate = Double(try entry.int("rate", default: 100, in: 1...100_000))
            clients.append(APIClient(name: name, keySHA256: hash, rate: rate, profile: try profile(entry)))
        }
        return clients
    }
}

/// Checks API keys (by hash, in constant time) and applies each client's rate limit.
public final class APIKeyRing<Profile: Sendable & Equatable>: Sendable {
    public enum Verdict: Equatable, Sendable {
        case allowed(APIClient<Profile>)
        case unknownKey
        case rateLimited(retryAfter: Double)
    }

    private let clients: [APIClient<Profile>]
    /// Development mode: every request is this client.
    public let development: APIClient<Profile>?
    public var open: Bool { development != nil }
    private let buckets: Mutex<[String: (tokens: Double, at: Double)]>
    private let clock: @Sendable () -> Double

    /// `developmentProfile`: no keys at all, every request is the client `development` with this
    /// profile (auth.mode none).
    public init(
        clients: [APIClient<Profile>],
        developmentProfile: Profile? = nil,
        clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }
    ) {
        self.clients = clients
        self.development = developmentProfile.map { APIClient(name: "development", keySHA256: "", rate: 1_000_000, profile: $0) }
        self.buckets = Mutex([:])
        self.clock = clock
    }

    public func check(key: String?) -> Verdict {
        if let development { return .allowed(development) }
        guard let key, !key.isEmpty else { return .unknownKey }
        let digest = SHA256.hex(Array(key.utf8))
        // Compare against every client without stopping early: timing says nothing about which matched.
        var found: APIClient<Profile>?
        for client in clients where Self.constantTimeEqual(client.keySHA256, digest) { found = client }
        guard let client = found else { return .unknownKey }
        return take(for: client)
    }

    /// A token bucket per client: `rate` tokens a second, at most `2 × rate` saved up.
    private func take(for client: APIClient<Profile>) -> Verdict {
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

    /// Equal strings, compared in time that depends only on their length.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
