import Foundation

/// Paths for the SQLite stores the tests make, all in one directory per test process, removed
/// when the process exits: each test made its own file in /tmp and left it there (about 300 files,
/// with their -wal and -shm, per run).
public enum TemporaryStores {
    public static let directory: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gridbus-tests-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: TemporaryStores.directory) }
        return path
    }()

    /// A new path for a store named after `prefix`; nothing is created there.
    public static func path(_ prefix: String) -> String { directory + "/\(prefix)-\(UUID().uuidString).sqlite" }
}
