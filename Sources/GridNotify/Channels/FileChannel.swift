import Foundation
import GridJSON
import GridSchema
import Synchronization

/// Appends each message as one JSON line to a file: for audit, development, and systems that
/// tail a file. Never fails on purpose; a write error is tried again.
public final class FileChannel: NotificationChannel {
    public let name: String
    public let path: String
    public var contact: ContactKind { .none }
    public var style: MessageStyle { .structured }
    public var concurrency: Int { 1 }
    private let lock = Mutex(())

    public init(name: String = "log", path: String) {
        self.name = name
        self.path = path
    }

    public func deliver(_ envelope: Envelope) async -> DeliveryOutcome {
        guard var line = try? envelopeEncoder.encode(envelope) else { return .failed("cannot encode the message") }
        line.append(0x0a)
        return lock.withLock { _ in
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640])  // a failure shows below
            }
            guard let handle = FileHandle(forWritingAtPath: path) else { return .retry("cannot open \(path)") }
            defer { try? handle.close() }
            do {
                try handle.seekToEnd()
                try handle.write(contentsOf: line)
                return .delivered(providerMessageId: nil)
            } catch {
                return .retry("cannot write \(path): \(error.localizedDescription)")
            }
        }
    }
}
