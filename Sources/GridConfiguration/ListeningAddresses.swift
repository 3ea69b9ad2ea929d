import Foundation
import GridJSON

/// Where a program listens once it does, with ports configured as 0 or `*` resolved: what a
/// library's server reports to the program that runs it (which writes its ready file).
public struct ListeningAddresses: Sendable, Equatable {
    /// `http://HOST:PORT`
    public var http: String
    /// The bus's endpoints, for gridbusd.
    public var ingress: String?
    public var egress: String?
    public var replay: String?

    public init(http: String, ingress: String? = nil, egress: String? = nil, replay: String? = nil) {
        self.http = http
        self.ingress = ingress
        self.egress = egress
        self.replay = replay
    }
}

/// Called once a program's servers listen.
public typealias ReadyHandler = @Sendable (ListeningAddresses) -> Void

extension ListeningAddresses {
    /// The port of ``http``.
    public var httpPort: Int? { http.split(separator: ":").last.flatMap { Int($0) } }

    /// Waits up to `timeout` seconds for another process's ready file (`<data-dir>/<program>.ready`,
    /// which GridProgram's `ReadyFile` writes once the program listens) and reads its addresses;
    /// nil when it did not appear. It blocks the calling thread: for tools that start programs.
    public static func awaitReadyFile(_ path: String, timeout: Double = 30) -> ListeningAddresses? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let data = FileManager.default.contents(atPath: path), let file = try? JSONValue(parsing: [UInt8](data)),
                let http = file["http"]?.stringValue
            {
                return ListeningAddresses(
                    http: http,
                    ingress: file["ingress"]?.stringValue,
                    egress: file["egress"]?.stringValue,
                    replay: file["replay"]?.stringValue
                )
            }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }
}
