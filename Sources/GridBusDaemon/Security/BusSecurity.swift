import CoreMetrics
import Foundation
import GridConfiguration
import GridPlugins
import GridSecurity
import Logging
import ZeroMQ

/// gridbusd's security: the server's CURVE key, the identities admitted (the access file plus one
/// per plugin manifest), and how the bus sockets are set up. See docs/security.md.
public final class BusSecurity: Sendable {
    public let access: AccessControl
    public let metrics: SecurityMetrics
    let serverKeys: ZMQCurveKeyPair?
    /// The server's public certificate, written into the data directory for plugins and operators.
    public let publicKeyFile: String?
    private let configuration: BusConfiguration
    let handshakes = HandshakeMonitor()

    /// Loads keys, the access file and the plugins' identities; every error names its file and field.
    public init(configuration: BusConfiguration, metricsFactory: any MetricsFactory) throws(DefinitionError) {
        self.configuration = configuration
        metrics = SecurityMetrics(factory: metricsFactory, mode: configuration.securityMode)
        guard configuration.securityMode == .curve else {
            serverKeys = nil
            publicKeyFile = nil
            access = AccessControl(mode: .none, policy: .empty)
            return
        }
        // Never fall back to development mode silently, whoever built the configuration.
        guard let keyFile = configuration.serverKeyFile else {
            throw DefinitionError(file: "(configuration)", field: "security.server-key", reason: "is required when security.mode is curve")
        }
        do { serverKeys = try CurveCertificate.loadKeyPair(secretPath: keyFile) } catch {
            throw DefinitionError(file: error.path, field: "security.server-key", reason: error.reason)
        }
        let policy = try Self.loadPolicy(configuration)
        access = AccessControl(mode: .curve, policy: policy)
        metrics.identities.record(policy.identities.count)
        do {
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
            let written = try CurveCertificate.writePublic(serverKeys!.publicKey, name: "gridbusd", directory: configuration.dataDirectory)
            publicKeyFile = written.hasPrefix("/") ? written : FileManager.default.currentDirectoryPath + "/" + written
        } catch {
            throw DefinitionError(
                file: configuration.dataDirectory,
                field: "data-dir",
                reason: "cannot write gridbusd.key (the server's public certificate): \(error)"
            )
        }
    }

    /// The access file's identities plus one per plugin manifest (publish/subscribe become its ACL).
    static func loadPolicy(_ configuration: BusConfiguration) throws(DefinitionError) -> AccessPolicy {
        var identities: [Identity] = []
        if let file = configuration.accessFile { identities += try AccessFile.load(file) }
        if let directory = configuration.pluginsDirectory {
            for manifest in try PluginManifest.loadDirectory(directory, skipInvalid: configuration.skipInvalidPlugins) {
                guard let keyFile = manifest.keyFile else {
                    throw DefinitionError(file: manifest.file, field: "key", reason: "is required when security.mode is curve")
                }
                let key: ZMQCurveKeyPair
                do { key = try CurveCertificate.loadKeyPair(secretPath: keyFile) } catch {
                    throw DefinitionError(file: manifest.file, field: "key", reason: error.description)
                }
                identities.append(
                    Identity(
                        name: manifest.name,
                        publicKey: key.publicKey,
                        publish: manifest.publish,
                        subscribe: manifest.subscribe,
                        definedIn: manifest.file
                    )
                )
            }
        }
        return try AccessPolicy(identities: identities)
    }

    /// Re-reads the access file and the manifests' identities (SIGHUP). A bad file keeps the policy
    /// in force and says why; sockets and connections are untouched.
    public func reload(logger: Logger) {
        guard access.enforces else {
            logger.notice("SIGHUP: nothing to reload in development mode (no CURVE, no access lists)")
            return
        }
        do {
            let policy = try Self.loadPolicy(configuration)
            let before = Set(access.policy.identities.keys)
            let narrowed = access.replace(policy)
            metrics.reloaded(success: true)
            metrics.identities.record(policy.identities.count)
            let after = Set(policy.identities.keys)
            logger.notice(
                "access policy reloaded",
                metadata: [
                    "identities": "\(after.count)", "identities.added": "\(after.subtracting(before).sorted())",
                    "identities.removed": "\(before.subtracting(after).sorted())", "read.access.narrowed": "\(narrowed)",
                ]
            )
        } catch {
            metrics.reloaded(success: false)
            logger.error("access policy reload failed; the previous policy stays in force", metadata: ["error": "\(error)"])
        }
    }

    /// Makes a bus socket a CURVE server that asks the ZAP handler about every peer, and watches its
    /// failed handshakes; nothing in development mode.
    func configureServer(_ socket: ZMQSocket, name: String) throws(ZMQError) {
        guard let serverKeys else { return }
        try handshakes.watch(socket, name: name)
        try socket.setCurveServer(true)
        try socket.setCurveSecretKey(serverKeys.secretKey)
        try socket.setZAPDomain(ZAPHandler.domain)
        try socket.setZAPEnforceDomain(true)
        guard try socket.zapEnforceDomain else { throw ZMQError(code: EINVAL, operation: "ZAP_ENFORCE_DOMAIN was not accepted by libzmq") }
    }

    /// What `gridctl status` shows.
    var statusDescription: String { access.enforces ? "curve" : "none (development mode)" }
}
