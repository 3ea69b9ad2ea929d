import Foundation
import Synchronization

/// Checkpoints a WAL database from its own thread and connection, every `interval`.
///
/// SQLite's automatic checkpoint runs inside whichever commit takes the WAL past its threshold:
/// that commit copies the WAL into the database file and fsyncs it, and everything waiting on the
/// commit stalls (at 200 reports/s a worker's WAL filled its 16,000 pages every few seconds). A
/// passive checkpoint here never blocks the writer or the readers; the store keeps its automatic
/// checkpoint as a backstop, which fires only if this one falls behind.
public final class BackgroundCheckpointer: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)

    public init(path: String, interval: Duration, name: String = "checkpoint") {
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        // The thread keeps the checkpointer until `stop()` ends it.
        let thread = Thread { [self] in
            guard let connection = try? SQLiteConnection(path: path) else { return }
            while !stopped.load(ordering: .acquiring) {
                _ = wake.wait(timeout: .now() + seconds)
                if stopped.load(ordering: .acquiring) { break }
                // Busy (another checkpoint is running) or failing: the next tick tries again, and
                // the automatic checkpoint still bounds the WAL.
                try? connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            }
        }
        thread.name = name
        thread.start()
    }

    /// Ends the thread (at once; a checkpoint under way finishes first).
    public func stop() {
        stopped.store(true, ordering: .releasing)
        wake.signal()
    }
}
