import Foundation
import Synchronization

/// How a WAL database is checkpointed from a thread and connection of its own, never inside a
/// commit. gridbusd's journal and the workers' stores use it.
///
/// SQLite's automatic checkpoint runs inside whichever commit takes the WAL past its threshold:
/// that commit copies the WAL into the database file and fsyncs it, and everything waiting on the
/// commit stalls (at 200 reports/s a worker's WAL filled its 16,000 pages every few seconds). A
/// passive checkpoint here never blocks the writer or the readers.
///
/// It does not bound the WAL on its own: SQLite starts the WAL over only when a write begins after
/// everything was copied, and a writer that commits while each checkpoint runs never sees that
/// moment (a 3-million-event burst on gridbusd left a 1 GB WAL beside a 1 GB journal). So every
/// store keeps SQLite's automatic checkpoint as a backstop (``backstopPages``): the commit that
/// takes the WAL past it copies only what this thread has not copied yet, and the next commit
/// writes from the start of the WAL again.
public struct WALCheckpointing: Sendable {
    public var interval: Duration

    /// `PRAGMA wal_autocheckpoint` for a store checkpointed here: 16,000 pages, 62.5 MiB with
    /// SQLite's default page size.
    public static let backstopPages = 16_000

    public init(interval: Duration) { self.interval = interval }

    /// Passes every `interval` until `isStopped`; a failed pass goes to `failed` and the next one tries again.
    public func run(_ connection: SQLiteConnection, isStopped: () -> Bool, failed: (SQLiteError) -> Void) {
        // Relative sleeps in steps of at most 50 ms (so that a stop takes effect soon), not a timed
        // wait: a deadline needs the clock, and libfaketime's jumps stall those.
        let steps = max(1, Int((interval / .milliseconds(50)).rounded(.up)))
        let step = (interval / steps).components
        let microseconds = useconds_t(step.seconds * 1_000_000 + step.attoseconds / 1_000_000_000_000)
        while !isStopped() {
            for _ in 0..<steps where !isStopped() { usleep(microseconds) }
            if isStopped() { break }
            // A busy answer (another checkpoint under way) is not an error: the next pass tries again.
            do throws(SQLiteError) { try connection.execute("PRAGMA wal_checkpoint(PASSIVE)") } catch { failed(error) }
        }
    }
}

/// Runs ``WALCheckpointing`` on a thread of its own until `stop()`.
public final class BackgroundCheckpointer: Sendable {
    private let stopped = Atomic<Bool>(false)

    public init(path: String, interval: Duration, name: String = "checkpoint") {
        let checkpointing = WALCheckpointing(interval: interval)
        // The thread keeps the checkpointer until `stop()` ends it.
        let thread = Thread { [self] in
            // Named by the thread itself (`top -H`, /proc): Foundation on Linux names a thread only
            // from outside once it has started, which is unsafe if it has already ended. The kernel
            // cuts the name to 15 bytes.
            try? name.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            guard let connection = try? SQLiteConnection(path: path) else { return }
            // Failing passes leave the backstop to bound the WAL.
            checkpointing.run(connection, isStopped: { stopped.load(ordering: .acquiring) }, failed: { _ in })
        }
        thread.start()
    }

    /// Ends the thread (within 50 ms; a checkpoint under way finishes first).
    public func stop() { stopped.store(true, ordering: .releasing) }
}
