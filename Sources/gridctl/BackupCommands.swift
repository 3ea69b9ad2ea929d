import ArgumentParser
import Foundation
import GridStore

/// `gridctl backup`: an online copy of the journal and every worker store.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the journal and every worker store of a data directory into a new directory, while everything runs.",
        discussion:
            "Worker stores first, the journal last; each copy passes SQLite's integrity check; MANIFEST.json last. See docs/operations.md, \"Backups\"."
    )

    @Option(name: .customLong("data-dir"), help: "gridbusd's data directory.") var dataDirectory = "/var/lib/gridbus"
    @Option(help: "The new directory to write the backup into.") var to: String

    func run() throws {
        do {
            let manifest = try StoreBackup.backup(dataDirectory: dataDirectory, to: to)
            let bytes = manifest.entries.reduce(0) { $0 + $1.bytes }
            print(
                "backed up \(manifest.entries.count) stores (\(bytes) bytes) into \(to); journal head \(manifest.journalHead.map(String.init) ?? "none")"
            )
        } catch { throw RuntimeFailure("backup: \(error)") }
    }
}

/// `gridctl restore`: a backup back into a data directory (gridbusd stopped).
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a backup made by `gridctl backup` into a data directory; stop gridbusd first.",
        discussion: "Checks every copy before touching the data directory. Then start gridbusd: the workers resume from their cursors."
    )

    @Option(help: "The backup directory.") var from: String
    @Option(name: .customLong("data-dir"), help: "gridbusd's data directory.") var dataDirectory = "/var/lib/gridbus"
    @Flag(help: "Overwrite the stores the data directory already holds.") var replace = false

    func run() throws {
        do {
            let manifest = try StoreBackup.restore(from: from, into: dataDirectory, replace: replace)
            print(
                "restored \(manifest.entries.count) stores of \(manifest.createdAt) into \(dataDirectory); journal head \(manifest.journalHead.map(String.init) ?? "none")"
            )
        } catch { throw RuntimeFailure("restore: \(error)") }
    }
}
