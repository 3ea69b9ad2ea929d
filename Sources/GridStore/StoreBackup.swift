import Foundation

/// Online backups of a GridBus data directory: every SQLite store under it (the journal, each
/// worker's store) copied with `VACUUM INTO`, which reads one consistent snapshot while the daemon
/// and the workers go on writing. The workers' stores are copied first and the journal last, so
/// that the journal in a backup is never behind a worker's cursor or outbox: after a restore a
/// worker replays what it had not read, and what it publishes again is dropped by the journal as a
/// duplicate `(source, id)`.
public enum StoreBackup {
    public struct Entry: Codable, Sendable, Equatable {
        /// Relative to the data directory.
        public var path: String
        public var bytes: Int64
        public var integrity: String
    }

    public struct Manifest: Codable, Sendable {
        public var createdAt: String
        public var entries: [Entry]
        /// The journal's newest sequence in the backup (nil when the data directory has no journal).
        public var journalHead: Int64?
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public static let manifestName = "MANIFEST.json"
    static let journalName = "journal.sqlite"

    /// The stores under `dataDirectory`, workers' first, the journal last. Rebuild outputs are not stores.
    public static func stores(in dataDirectory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: dataDirectory) else { return [] }
        var found: [String] = []
        while let path = walker.nextObject() as? String {
            if path.hasSuffix(".sqlite") && !path.hasSuffix(".rebuilt.sqlite") { found.append(path) }
        }
        return found.sorted { ($0 == journalName ? 1 : 0, $0) < ($1 == journalName ? 1 : 0, $1) }
    }

    /// Copies every store of `dataDirectory` into `destination` (which must not exist yet) and writes
    /// the manifest last: a backup without a manifest is incomplete.
    @discardableResult
    public static func backup(dataDirectory: String, to destination: String, now: Date = Date()) throws -> Manifest {
        let files = FileManager.default
        guard !files.fileExists(atPath: destination) else { throw Failure("\(destination) already exists; a backup goes into a new directory") }
        let stores = stores(in: dataDirectory)
        guard !stores.isEmpty else { throw Failure("no SQLite store under \(dataDirectory): is it gridbusd's data-dir?") }
        var entries: [Entry] = []
        var head: Int64?
        for store in stores {
            let target = (destination as NSString).appendingPathComponent(store)
            try files.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            do {
                let source = try SQLiteConnection(
                    path: (dataDirectory as NSString).appendingPathComponent(store),
                    readOnly: true,
                    busyTimeoutMilliseconds: 30_000
                )
                try source.execute("VACUUM INTO '\(target.replacingOccurrences(of: "'", with: "''"))'")
            } catch { throw Failure("copying \(store): \(error)") }
            let copy = try SQLiteConnection(path: target, readOnly: true)
            let integrity = try check(copy, store)
            if store == journalName { head = try copy.scalar("SELECT COALESCE(MAX(last_seq), 0) FROM event_chunks") }
            let size = (try files.attributesOfItem(atPath: target)[.size] as? NSNumber)?.int64Value ?? 0
            entries.append(Entry(path: store, bytes: size, integrity: integrity))
        }
        let manifest = Manifest(createdAt: ISO8601DateFormatter().string(from: now), entries: entries, journalHead: head)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: (destination as NSString).appendingPathComponent(manifestName)))
        return manifest
    }

    /// Puts a backup in place in `dataDirectory`, which must hold no store unless `replace` is set;
    /// gridbusd must be stopped. Each copy is checked before anything is touched.
    @discardableResult
    public static func restore(from backup: String, into dataDirectory: String, replace: Bool) throws -> Manifest {
        let files = FileManager.default
        let manifestPath = (backup as NSString).appendingPathComponent(manifestName)
        guard let data = files.contents(atPath: manifestPath) else { throw Failure("\(manifestPath) is missing: not a backup, or an incomplete one") }
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch { throw Failure("\(manifestPath): \(error)") }
        for entry in manifest.entries {
            let copy = (backup as NSString).appendingPathComponent(entry.path)
            guard files.fileExists(atPath: copy) else { throw Failure("\(entry.path) is in the manifest but not in \(backup)") }
            _ = try check(try SQLiteConnection(path: copy, readOnly: true), entry.path)
        }
        let existing = stores(in: dataDirectory)
        for store in existing {
            if let pid = processHolding((dataDirectory as NSString).appendingPathComponent(store)) {
                throw Failure("process \(pid) has \(store) open: stop gridbusd (and its workers) first")
            }
        }
        guard existing.isEmpty || replace else {
            throw Failure("\(dataDirectory) already holds \(existing.joined(separator: ", ")); stop gridbusd and pass --replace to overwrite them")
        }
        for entry in manifest.entries {
            let target = (dataDirectory as NSString).appendingPathComponent(entry.path)
            try files.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            // The old store's WAL and shared memory belong to the old file.
            for suffix in ["", "-wal", "-shm"] where files.fileExists(atPath: target + suffix) { try files.removeItem(atPath: target + suffix) }
            try files.copyItem(atPath: (backup as NSString).appendingPathComponent(entry.path), toPath: target)
        }
        return manifest
    }

    /// A process with `path` open (Linux: /proc/PID/fd), so that a restore never pulls a store from under a running daemon.
    static func processHolding(_ path: String) -> Int? {
        let files = FileManager.default
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        for entry in (try? files.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int(entry), let descriptors = try? files.contentsOfDirectory(atPath: "/proc/\(entry)/fd") else { continue }
            for descriptor in descriptors where (try? files.destinationOfSymbolicLink(atPath: "/proc/\(entry)/fd/\(descriptor)")) == target {
                return pid
            }
        }
        return nil
    }

    private static func check(_ connection: SQLiteConnection, _ name: String) throws -> String {
        let statement = try connection.prepare("PRAGMA integrity_check")
        guard try statement.step(), let result = statement.text(0), result == "ok" else { throw Failure("\(name) failed SQLite's integrity check") }
        return result
    }
}
