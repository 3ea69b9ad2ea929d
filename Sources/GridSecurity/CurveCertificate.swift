import Foundation
import ZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// CURVE keys on disk in ZeroMQ's certificate format (as written by czmq's zcert and by pyzmq's
/// `zmq.auth.create_certificates`): `NAME.key` holds the public key, `NAME.key_secret` both keys.
///
/// Errors name the file and what is wrong with it; they never contain key material.
public enum CurveCertificate {
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Writes `directory/NAME.key` (mode 0644) and `directory/NAME.key_secret` (mode 0600); refuses to
    /// replace existing files unless `overwrite` is set.
    @discardableResult
    public static func write(
        _ keyPair: ZMQCurveKeyPair,
        name: String,
        directory: String,
        overwrite: Bool = false,
        now: Date = Date()
    ) throws(Error) -> (publicPath: String, secretPath: String) {
        let publicPath = (directory as NSString).appendingPathComponent("\(name).key")
        let secretPath = publicPath + "_secret"
        for path in [publicPath, secretPath] where !overwrite && FileManager.default.fileExists(atPath: path) {
            throw Error(path: path, reason: "already exists; remove it first or pass --force to replace the key pair")
        }
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw Error(path: directory, reason: "cannot create the directory: \(error.localizedDescription)")
        }
        try writeFile(publicPath, header(name: name, kind: "Public", publicKey: keyPair.publicKey, now: now), mode: 0o644)
        let secret =
            header(name: name, kind: "**Secret**", publicKey: keyPair.publicKey, now: now) + "    secret-key = \"\(keyPair.secretKey.z85)\"\n"
        try writeFile(secretPath, secret, mode: 0o600)
        return (publicPath, secretPath)
    }

    /// Writes (or replaces) only `directory/NAME.key`: how gridbusd publishes its own public key.
    @discardableResult
    public static func writePublic(_ publicKey: ZMQCurveKey, name: String, directory: String, now: Date = Date()) throws(Error) -> String {
        let path = (directory as NSString).appendingPathComponent("\(name).key")
        try writeFile(path, header(name: name, kind: "Public", publicKey: publicKey, now: now), mode: 0o644)
        return path
    }

    private static func header(name: String, kind: String, publicKey: ZMQCurveKey, now: Date) -> String {
        """
        #   ****  Generated on \(ISO8601DateFormatter().string(from: now)) by GridBus  ****
        #   ZeroMQ CURVE \(kind) Certificate
        #   Exchange securely, or use a secure mechanism to verify the contents
        #   of this file after exchange.

        metadata
            name = "\(name)"
        curve
            public-key = "\(publicKey.z85)"

        """
    }

    /// The public key of a certificate file (public or secret).
    public static func loadPublicKey(path: String) throws(Error) -> ZMQCurveKey {
        let fields = try read(path)
        guard let text = fields["public-key"] else { throw Error(path: path, reason: "no public-key line: not a ZeroMQ certificate") }
        do { return try ZMQCurveKey(z85: text) } catch { throw Error(path: path, reason: "public-key is not a 40-character Z85 key") }
    }

    /// Both keys of a secret certificate file. Refuses a file that anyone but its owner can read.
    public static func loadKeyPair(secretPath path: String) throws(Error) -> ZMQCurveKeyPair {
        try checkPrivate(path)
        let fields = try read(path)
        guard let secretText = fields["secret-key"] else {
            throw Error(path: path, reason: "no secret-key line: this is a public certificate; use the NAME.key_secret file")
        }
        let secret: ZMQCurveKey
        do { secret = try ZMQCurveKey(z85: secretText) } catch { throw Error(path: path, reason: "secret-key is not a 40-character Z85 key") }
        return ZMQCurveKeyPair(publicKey: try loadPublicKey(path: path), secretKey: secret)
    }

    /// A secret key file must be readable by its owner only (like ssh's private keys).
    public static func checkPrivate(_ path: String) throws(Error) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw Error(path: path, reason: "cannot read the key file: \(String(cString: strerror(errno)))") }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw Error(path: path, reason: "secret key file has mode \(String(mode, radix: 8)); others can read it. Run: chmod 600 \(path)")
        }
    }

    /// `key = "value"` lines of the `curve` section (and `metadata`; names do not clash).
    private static func read(_ path: String) throws(Error) -> [String: String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw Error(path: path, reason: "cannot read the key file: \((error as NSError).localizedDescription)")
        }
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
            fields[key] = value
        }
        return fields
    }

    private static func writeFile(_ path: String, _ contents: String, mode: mode_t) throws(Error) {
        // Created with the final mode, so the secret is never readable by others, not even briefly.
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Error(path: path, reason: "cannot create: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        fchmod(fd, mode)
        let bytes = Array(contents.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
            throw Error(path: path, reason: "cannot write: \(String(cString: strerror(errno)))")
        }
    }
}
