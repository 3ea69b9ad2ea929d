import Foundation
import Logging
import ServiceLifecycle

/// `<data-dir>/<program>.ready`: written once a program listens, so that scripts and tests can
/// wait for it and read the addresses actually bound (ports configured as 0 or `*`).
public struct ReadyFile: Sendable {
    public let path: String

    /// Removes a file left by an earlier run, so that nobody reads a stale address.
    public init(directory: String, program: String) {
        path = (directory as NSString).appendingPathComponent("\(program).ready")
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes atomically (a reader sees the whole file or none).
    public func write(_ contents: Data) {
        _ = FileManager.default.createFile(atPath: path + ".tmp", contents: contents)
        _ = rename(path + ".tmp", path)
    }

    /// The worker programs' file: their HTTP address and pid.
    public func write(http: String) {
        write(Data(#"{"http":"\#(http)","pid":\#(getpid())}"#.utf8))
    }
}

extension ServiceGroupConfiguration.ServiceConfiguration {
    /// SIGINT/SIGTERM stop the whole group gracefully (see ``TerminationSignalService``).
    public static func terminationSignals(logger: Logger, onHangup: (@Sendable () -> Void)? = nil) -> Self {
        .init(
            service: TerminationSignalService(onHangup: onHangup) { signal in
                logger.notice(
                    "signal received; shutting down",
                    metadata: ["signal": "\(signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "\(signal)")"]
                )
            },
            successTerminationBehavior: .gracefullyShutdownGroup
        )
    }
}
