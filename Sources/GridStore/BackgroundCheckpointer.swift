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

    public init(path: String, interval: Duration, name: String = "checkpoint") {
        // Relative sleeps in steps of at most 50 ms (so that `stop()` takes effect soon), not a
        // timed wait: a deadline needs the clock, and libfaketime's jumps stall those.
        let steps = max(1, Int((interval / .milliseconds(50)).rounded(.up)))
        let step = useconds_t((interval / steps).components.attoseconds / 1_000_000_000_000 + (interval / steps).components.seconds * 1_000_000)
        // The thread keeps the checkpointer until `stop()` ends it.
        let thread = Thread { [self] in
            guard let connection = try? SQLiteConnection(path: path) else { return }
            while !stopped.load(ordering: .acquiring) {
                for _ in 0..<steps where !stopped.load(ordering: .acquiring) { usleep(step) }
                if stopped.load(ordering: .acquiring) { break }
                // Busy (another checkpoint is running) or failing: the next tick tries again, and
                // the automatic checkpoint still bounds the WAL.
                try? connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            }
        }
        thread.name = name
        thread.start()
    }

    /// Ends the thread (within 50 ms; a checkpoint under way finishes first).
    public func stop() { stopped.store(true, ordering: .releasing) }
}
