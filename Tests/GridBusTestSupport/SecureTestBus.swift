import Foundation
import GridBusClient
import GridBusDaemon
import GridSecurity
import ZeroMQ

/// An identity for ``withSecureTestBus``: its name and its access lists (patterns as in the access file).
public struct TestIdentity: Sendable {
    public let name: String
    public let publish: [String]
    public let subscribe: [String]
    public init(_ name: String, publish: [String] = [], subscribe: [String] = []) {
        self.name = name
        self.publish = publish
        self.subscribe = subscribe
    }
}

/// Runs `body` against an in-process bus with CURVE on: fresh keys for the daemon and for each
/// identity, written with `CurveCertificate` and listed in an access file, as an operator would.
/// `body` gets the bus and each identity's endpoints with its credentials.
public func withSecureTestBus<T: Sendable>(
    identities: [TestIdentity],
    configure: (inout BusConfiguration) -> Void = { _ in },
    _ body: (TestBus, [String: BusEndpoints]) async throws -> T
) async throws -> T {
    let directory = TemporaryFiles.path("keys")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let server = try ZMQCurveKeyPair.generate()
    let serverFiles = try CurveCertificate.write(server, name: "gridbusd", directory: directory)
    var access = "identities:\n"
    var pairs: [String: ZMQCurveKeyPair] = [:]
    for identity in identities {
        let pair = try ZMQCurveKeyPair.generate()
        try CurveCertificate.write(pair, name: identity.name, directory: directory)
        pairs[identity.name] = pair
        func list(_ patterns: [String]) -> String { "[" + patterns.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        access += "  - name: \(identity.name)\n    key-file: \(identity.name).key\n"
        access += "    publish: \(list(identity.publish))\n    subscribe: \(list(identity.subscribe))\n"
    }
    try access.write(toFile: directory + "/access.yaml", atomically: true, encoding: .utf8)
    return try await withTestBus(configure: {
        $0.securityMode = .curve
        $0.serverKeyFile = serverFiles.secretPath
        $0.accessFile = directory + "/access.yaml"
        configure(&$0)
    }) { bus in
        var endpoints: [String: BusEndpoints] = [:]
        for (name, pair) in pairs {
            var identityEndpoints = bus.endpoints
            identityEndpoints.credentials = BusCredentials(keyPair: pair, serverKey: server.publicKey)
            endpoints[name] = identityEndpoints
        }
        return try await body(bus, endpoints)
    }
}
