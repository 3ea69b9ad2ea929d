#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why a worker's store could not be rebuilt from the journal.
public struct RebuildError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension WorkerRuntime {
    /// The store file a rebuild writes: `into` when given, else `<name>.rebuilt.sqlite` beside the
    /// live store; it must not exist yet (a rebuild never writes over a store).
    public static func rebuildPath(into: String, dataDirectory: String, name: String) throws -> String {
        let path = into.isEmpty ? dataDirectory + "/\(name).rebuilt.sqlite" : into
        guard !FileManager.default.fileExists(atPath: path) else {
            throw RebuildError("\(path) already exists; move it away or choose another file with --rebuild-into")
        }
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
            withIntermediateDirectories: true
        )
        return path
    }

    /// A worker's `rebuild`: hands `apply` every journaled event whose topic starts with one of
    /// `prefixes`, from the first up to the journal's head as it was when the rebuild began, in
    /// batches of at most `batch`; then leaves this worker's cursor at that head, so that a worker
    /// started on the rebuilt store goes on from there.
    ///
    /// - Returns: the head it rebuilt up to.
    /// - Throws: ``RebuildError`` when retention has removed the journal's first events (the store
    ///   could not be rebuilt completely), or what `apply` throws.
    public func rebuildFromJournal(
        prefixes: [String],
        batch: Int = 5000,
        progress: @Sendable (_ sequence: UInt64, _ head: UInt64) -> Void,
        apply: ([BusEvent]) async throws -> Void
    ) async throws -> UInt64 {
        let requester = requester()
        do {
            var cursor: UInt64 = 0
            var head: UInt64?
            while true {
                let replayed = try await requester.replay(after: cursor, prefixes: prefixes, limit: batch)
                if head == nil {
                    guard replayed.tail <= 1 else {
                        throw RebuildError(
                            "the journal starts at sequence \(replayed.tail): the events before it are gone, so the store cannot be rebuilt completely"
                        )
                    }
                    head = replayed.head
                }
                let end = head!
                try await apply(replayed.events.filter { $0.sequence <= end })
                cursor = replayed.next
                progress(min(cursor, end), end)
                if replayed.isComplete || cursor >= end { break }
            }
            await requester.close()
            try await store.saveCursor(head ?? 0, for: name)
            return head ?? 0
        } catch {
            await requester.close()
            throw error
        }
    }
}
