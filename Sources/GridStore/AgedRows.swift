/// Removing rows by age from a table that only grows at its end: a worker's log, its request
/// keys. Rows are walked in rowid order, the order they were added, from the oldest; the walk stops
/// at the first row stamped at or after the cutoff, so a pass reads little more than it removes
/// and needs no index on the stamp.
public struct AgedRows: Sendable {
    public let table: String
    /// The column holding when a row was added (ms since 1970).
    public let stampColumn: String
    /// An SQL condition a row must also meet to go (a log keeps the entries still in use however
    /// old); `1` for every row.
    public let removable: String

    public init(table: String, stampColumn: String, removable: String = "1") {
        self.table = table
        self.stampColumn = stampColumn
        self.removable = removable
    }

    var walkSQL: String { "SELECT rowid, \(stampColumn), \(removable) FROM \(table) ORDER BY rowid" }
    var removeSQL: String { "DELETE FROM \(table) WHERE rowid = ?" }

    /// Removes up to `limit` removable rows stamped before `cutoff`, oldest first. Returns how many,
    /// and whether it stopped at `limit` (more may be due).
    public func remove(before cutoff: Int64, limit: Int, on connection: SQLiteConnection) throws(SQLiteError) -> (removed: Int, more: Bool) {
        let walk = try connection.prepare(walkSQL)
        var rowIDs: [Int64] = []
        while rowIDs.count < limit, try walk.step(), walk.int64(1) < cutoff {
            if walk.int64(2) != 0 { rowIDs.append(walk.int64(0)) }
        }
        walk.reset()
        let remove = try connection.prepare(removeSQL)
        for rowID in rowIDs {
            remove.bind(rowID, at: 1)
            try remove.run()
        }
        return (rowIDs.count, rowIDs.count == limit)
    }
}
