import GridStore

extension SQLiteConnection {
    /// The steps of SQLite's plan for `sql` (the detail column of `EXPLAIN QUERY PLAN`): for tests
    /// that a query reads along an index, not through the whole table.
    public func queryPlan(_ sql: String) throws -> [String] {
        let plan = try prepare("EXPLAIN QUERY PLAN " + sql)
        var details: [String] = []
        while try plan.step() { details.append(plan.text(3) ?? "") }
        return details
    }
}
