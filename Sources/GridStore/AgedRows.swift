/// Removing rows by age from a table that only grows at its end: a worker's log, its request
/// keys. Rows are walked in rowid order, the order they were added, from the oldest; the walk stops
/// at the first row stamped at or after the cutoff, so a pass reads little more than it removes
/// and needs no index on the stamp.
public struct AgedRows: Sendable {
    public let table: String
    /// The column that numbers the rows as they are added: SQLite's `rowid` or its alias.
    public let rowID: String
    /// The column holding when a row was added (ms since 1970).
    public let stampColumn: String
    /// An SQL condition a row must also meet to go (a log keeps the entries still in use however
    /// old); `1` for every row.
    public let removable: String

    public init(table: String, rowID: String = "rowid", stampColumn: String, removable: String = "1") {
        self.table = table
        self.rowID = rowID
        self.stampColumn = stampColumn
        self.removable = removable
    }

    /// A page of the walk: on PostgreSQL a statement's rows come in one answer, so the walk goes
    /// a page at a time rather than asking for the whole table.
    var walkSQL: String { "SELECT \(rowID), \(stampColumn), \(removable) FROM \(table) WHERE \(rowID) > ? ORDER BY \(rowID) LIMIT ?" }
    var removeSQL: String { "DELETE FROM \(table) WHERE \(rowID) = ?" }

    /// Removes up to `limit` removable rows stamped before `cutoff`, oldest first. Returns how many,
    /// and whether it stopped at `limit` (more may be due).
    ///
    /// On PostgreSQL the table needs a column of its own that grows as rows are added
    /// (`bigserial`): SQLite's `rowid` is implicit.
    public func remove(before cutoff: Int64, limit: Int, on connection: some StoreConnection) throws -> (removed: Int, more: Bool) {
        let walk = try connection.prepare(walkSQL)
        var rowIDs: [Int64] = []
        var after = Int64.min
        walking: while rowIDs.count < limit {
            walk.reset()
            walk.bind(after, at: 1)
            walk.bind(limit, at: 2)
            var rows = 0
            while try walk.step() {
                rows += 1
                after = walk.int64(0)
                guard walk.int64(1) < cutoff else { break walking }
                if walk.int64(2) != 0 { rowIDs.append(after) }
                if rowIDs.count == limit { break walking }
            }
            if rows < limit { break }
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
