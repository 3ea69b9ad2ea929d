import GridConfiguration
import GridSecurity
import ZeroMQ

/// A client's CURVE identity on the bus: its own key pair and the daemon's public key.
/// Without credentials a client speaks plain ZeroMQ, which only a daemon in development mode accepts.
public struct BusCredentials: Sendable {
    public let keyPair: ZMQCurveKeyPair
    public let serverKey: ZMQCurveKey

    public init(keyPair: ZMQCurveKeyPair, serverKey: ZMQCurveKey) {
        self.keyPair = keyPair
        self.serverKey = serverKey
    }

    /// Loads a secret certificate (`NAME.key_secret`, mode 0600) and the daemon's public certificate.
    public init(keyFile: String, serverKeyFile: String) throws(CurveCertificate.Error) {
        keyPair = try CurveCertificate.loadKeyPair(secretPath: keyFile)
        serverKey = try CurveCertificate.loadPublicKey(path: serverKeyFile)
    }

    /// Makes `socket` a CURVE client of the daemon; call before `connect`.
    public func apply(to socket: ZMQSocket) throws(ZMQError) {
        try socket.setCurveServerKey(serverKey)
        try socket.setCurvePublicKey(keyPair.publicKey)
        try socket.setCurveSecretKey(keyPair.secretKey)
    }

    /// `bus.key` and `bus.server-key` from a worker's configuration: both, or neither.
    public static func load(reader: GridConfigReader) throws(ConfigurationError) -> BusCredentials? {
        let key = reader.optionalString("bus.key")
        let serverKey = reader.optionalString("bus.server-key")
        switch (key, serverKey) {
        case (nil, nil): return nil
        case (let key?, let serverKey?):
            do { return try BusCredentials(keyFile: key, serverKeyFile: serverKey) } catch {
                throw reader.error(error.path == key ? "bus.key" : "bus.server-key", error.path, error.reason)
            }
        case (nil, _): throw reader.error("bus.key", nil, "bus.server-key is set but bus.key is not; CURVE needs both")
        case (_, nil): throw reader.error("bus.server-key", nil, "bus.key is set but bus.server-key is not; CURVE needs both")
        }
    }
}
