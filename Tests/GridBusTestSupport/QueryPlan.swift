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

extension SQLiteConnection {
    /// The virtual machine's opcodes for `sql` (`EXPLAIN`): for tests that a statement builds no
    /// temporary table (`OpenEphemeral`, the list of an `IN (…)`) and sorts nothing (`SorterOpen`),
    /// which the plan does not always show.
    public func opcodes(_ sql: String) throws -> Set<String> {
        let program = try prepare("EXPLAIN " + sql)
        var opcodes: Set<String> = []
        while try program.step() { opcodes.insert(program.text(1) ?? "") }
        return opcodes
    }
}
