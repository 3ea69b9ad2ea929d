import Foundation

/// Where a PostgreSQL password comes from: a file (mode 0600 or stricter) or one environment
/// variable, never a flag or the URL, so that it shows in no process list and no log line.
public enum PostgresPassword {
    /// The password from `file` if given, else from `environment[variable]`, else none (trust,
    /// peer or certificate authentication).
    /// - Throws: ``PostgresPasswordError`` naming the file and what is wrong with it.
    public static func resolve(file: String?, variable: String, environment: [String: String]) throws(PostgresPasswordError) -> String? {
        if let file, !file.isEmpty {
            let attributes: [FileAttributeKey: Any]
            do { attributes = try FileManager.default.attributesOfItem(atPath: file) } catch {
                throw PostgresPasswordError(file: file, reason: "cannot be read: \(error.localizedDescription)")
            }
            if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
                throw PostgresPasswordError(file: file, reason: "can be read by others (mode \(String(mode, radix: 8))): chmod 600 it")
            }
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw PostgresPasswordError(file: file, reason: "cannot be read as UTF-8 text")
            }
            // One line; the newline an editor adds is not part of the password.
            let password = text.hasSuffix("\r\n") ? String(text.dropLast(2)) : text.hasSuffix("\n") ? String(text.dropLast()) : text
            guard !password.isEmpty else { throw PostgresPasswordError(file: file, reason: "is empty") }
            return password
        }
        if let value = environment[variable], !value.isEmpty { return value }
        return nil
    }
}

public struct PostgresPasswordError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let reason: String
    public var description: String { "password file \(file) \(reason)" }
}
