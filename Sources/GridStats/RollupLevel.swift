/// A granularity of the roll-ups. The same sums are kept at three: by day, grid and category (the
/// finest), by day and grid, and by day, town and category; a query reads the coarsest level that
/// has the columns it groups and filters by, so a district-wide month is a few thousand rows even
/// with a million cases behind it.
struct RollupLevel: Sendable {
    let table: String
    let durationsTable: String
    /// The key's columns, in order.
    let keys: [String]
    /// Columns stored beside the key, for filtering and grouping.
    let attributes: [String]

    var columns: [String] { keys + attributes }

    static let fine = RollupLevel(
        table: "rollup",
        durationsTable: "durations",
        keys: ["day", "grid", "category"],
        attributes: ["community", "town"]
    )
    static let places = RollupLevel(
        table: "rollup_place",
        durationsTable: "durations_place",
        keys: ["day", "grid"],
        attributes: ["community", "town"]
    )
    static let categories = RollupLevel(
        table: "rollup_category",
        durationsTable: "durations_category",
        keys: ["day", "town", "category"],
        attributes: []
    )
    static let all = [fine, places, categories]

    /// The coarsest level with every column the query needs.
    static func serving(_ query: IndicatorQuery) -> RollupLevel {
        let needsGrid = query.grid != nil || query.community != nil || [.grid, .community].contains(query.by)
        let needsCategory = query.category != nil || query.by == .category
        if needsGrid { return needsCategory ? fine : places }
        return categories
    }

    func schema(measures: String) -> String {
        let columns = self.columns.map { "\($0) TEXT NOT NULL" }.joined(separator: ", ")
        let key = keys.joined(separator: ", ")
        return """
            CREATE TABLE IF NOT EXISTS \(table) (\(columns), \(measures), PRIMARY KEY (\(key))) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS \(durationsTable) (
                \(columns), metric TEXT NOT NULL, bucket INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (\(key), metric, bucket)
            ) WITHOUT ROWID;
            """
    }
}
