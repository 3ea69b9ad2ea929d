import Foundation
import GridBusClient
import GridStore
import Logging
import Synchronization

extension Notifier {
    /// Settled notices leave the log with age; a notice still on its way stays however old.
    ///
    /// Removing a notice cannot make it be planned again: the events it came from are behind the
    /// subscriber's cursor, which goes back only to its last save, seconds before (docs/notifier.md).
    static let agedNotices = AgedRows(table: "deliveries", rowID: "id", stampColumn: "created_ms", removable: NotifierStore.isSettled)

    /// Keeps the notification log to `notification-log.max-age`.
    func logRetention(maxAge: Double, batch: Int = 100) -> RetentionService {
        RetentionService(
            what: "settled notices",
            rows: Self.agedNotices,
            maxAge: maxAge,
            store: runtime.store,
            now: now,
            batch: batch,
            removed: { [self] in removedFromLog.add($0, ordering: .relaxed) },
            logger: logger
        )
    }
}
