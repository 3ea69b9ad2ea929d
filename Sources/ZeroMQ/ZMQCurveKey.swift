import CZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// A 32-byte CURVE key, printable as 40 characters of Z85.
public struct ZMQCurveKey: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(ZMQError) {
        guard bytes.count == 32 else { throw ZMQError(code: EINVAL, operation: "curve key: expected 32 bytes, got \(bytes.count)") }
        self.bytes = bytes
    }

    /// Decodes a 40-character Z85 key, as found in ZeroMQ certificate files.
    public init(z85 text: String) throws(ZMQError) {
        let characters = Array(text.utf8)
        guard characters.count == 40 else { throw ZMQError(code: EINVAL, operation: "curve key: Z85 text must be 40 characters") }
        var decoded = [UInt8](repeating: 0, count: 32)
        let ok = (characters + [0]).withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { zmq_z85_decode(&decoded, $0.baseAddress) != nil }
        }
        guard ok else { throw ZMQError(code: EINVAL, operation: "curve key: not valid Z85") }
        self.bytes = decoded
    }

    /// The key as 40 characters of Z85.
    public var z85: String {
        var output = [CChar](repeating: 0, count: 41)
        _ = zmq_z85_encode(&output, bytes, 32)
        return String(decoding: output.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Deliberately not the key: keys must never reach a log line by accident.
    public var description: String { "ZMQCurveKey(…)" }
}

/// A CURVE key pair.
public struct ZMQCurveKeyPair: Sendable {
    public let publicKey: ZMQCurveKey
    public let secretKey: ZMQCurveKey

    /// Generates a fresh key pair (libsodium through libzmq).
    public static func generate() throws(ZMQError) -> ZMQCurveKeyPair {
        var publicText = [CChar](repeating: 0, count: 41)
        var secretText = [CChar](repeating: 0, count: 41)
        try zmqCall("zmq_curve_keypair") { zmq_curve_keypair(&publicText, &secretText) }
        func text(_ chars: [CChar]) -> String { String(decoding: chars.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return ZMQCurveKeyPair(publicKey: try ZMQCurveKey(z85: text(publicText)), secretKey: try ZMQCurveKey(z85: text(secretText)))
    }

    public init(publicKey: ZMQCurveKey, secretKey: ZMQCurveKey) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }
}
