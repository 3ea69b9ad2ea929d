import GridStore
import Logging
import ZeroMQ

/// Moves the journal's write-ahead log into the database file from its own thread and connection.
///
/// SQLite checkpoints automatically inside a commit once the WAL passes 1000 pages; with the
/// journal thread doing that, every few megabytes one group commit (and every publish waiting on
/// it) stalled for the copy and its fsync. The writer turns automatic checkpoints off and this
/// thread runs passive checkpoints, which never block the writer.
struct JournalCheckpointer {
    let interval: Double
    let logger: Logger
    let stop: StopFlag

    func run(connection: SQLiteConnection) {
        let tick = BoundedBuffer<Bool>(capacity: 1)
        while !stop.isSet {
            _ = tick.popBlocking(timeout: interval)
            do {
                try connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            } catch {
                logger.warning("journal checkpoint failed; will retry", metadata: ["error": "\(error)"])
            }
        }
        try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  // leave a small WAL behind at shutdown
    }
}
