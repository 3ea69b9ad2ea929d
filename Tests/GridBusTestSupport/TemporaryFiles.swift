import Foundation

/// Paths for what the tests write (SQLite stores, configuration files, key directories), all in
/// one directory per test process, removed when the process exits. Each test used to make its own
/// entry in /tmp and leave it there (about 1,100 had gathered on one machine in a day).
public enum TemporaryFiles {
    public static let directory: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gridbus-tests-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: TemporaryFiles.directory) }
        return path
    }()

    /// A new path for a SQLite store named after `prefix`; nothing is created there.
    public static func store(_ prefix: String) -> String { path(prefix, extension: "sqlite") }

    /// A new path named after `prefix`, for a file or a directory; nothing is created there.
    public static func path(_ prefix: String, extension: String? = nil) -> String {
        directory + "/\(prefix)-\(UUID().uuidString)" + (`extension`.map { "." + $0 } ?? "")
    }

    /// A new, empty directory named after `prefix`.
    public static func makeDirectory(_ prefix: String) throws -> String {
        let path = path(prefix)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
