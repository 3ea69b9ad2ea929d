import Foundation
import GridConfiguration
import GridJSON

/// `<data-dir>/<program>.ready`: written once a program listens, so that scripts, tests and
/// gridbusd's plugin supervision can wait for it and read the addresses actually bound (ports
/// configured as 0 or `*`) and the program's pid.
public struct ReadyFile: Sendable {
    public let path: String

    /// Removes a file left by an earlier run, so that nobody reads a stale address.
    public init(directory: String, program: String) {
        path = (directory as NSString).appendingPathComponent("\(program).ready")
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes the addresses and this process's pid, atomically (a reader sees the whole file or none).
    public func write(_ addresses: ListeningAddresses) {
        let contents = JSONObjectWriter.object { writer in
            writer.string("http", addresses.http)
            writer.string("ingress", addresses.ingress)
            writer.string("egress", addresses.egress)
            writer.string("replay", addresses.replay)
            writer.int("pid", Int(getpid()))
        }
        _ = FileManager.default.createFile(atPath: path + ".tmp", contents: Data(contents))
        _ = rename(path + ".tmp", path)
    }
}
