import GridStore
import Testing

/// What the PostgreSQL store makes of the SQL the workers write for SQLite.
@Suite struct StoreSQLTests {
    @Test func parametersAreNumberedOutsideQuotesAndComments() {
        #expect(StoreSQL.numberedParameters("SELECT a FROM t WHERE b = ? AND c IN (?, ?)") == "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)")
        #expect(StoreSQL.numberedParameters("SELECT '?', \"a?\" FROM t -- why?\nWHERE b = ?") == "SELECT '?', \"a?\" FROM t -- why?\nWHERE b = $1")
        // SQLite's numbered parameters keep their numbers.
        #expect(
            StoreSQL.numberedParameters("SELECT SUM(CASE WHEN day >= ?1 THEN 1 END) FROM t WHERE day < ?1")
                == "SELECT SUM(CASE WHEN day >= $1 THEN 1 END) FROM t WHERE day < $1"
        )
    }

    @Test func statementsSplitAtSemicolonsOutsideQuotes() {
        let sql = """
            CREATE TABLE a (x TEXT DEFAULT ';');
            -- a comment; not a statement
            CREATE INDEX a_x ON a (x);
            """
        #expect(StoreSQL.statements(in: sql) == ["CREATE TABLE a (x TEXT DEFAULT ';')", "-- a comment; not a statement\nCREATE INDEX a_x ON a (x)"])
    }

    @Test func aSQLiteSchemaInPostgreSQLsTypes() {
        let sqlite = """
            CREATE TABLE IF NOT EXISTS log (rowid INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, body BLOB, at REAL);
            CREATE TABLE IF NOT EXISTS sums (day TEXT NOT NULL, count INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (day)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS notices (id INTEGER PRIMARY KEY, points_integer_total INTEGER);
            """
        #expect(
            StoreSQL.postgresqlSchema(fromSQLite: sqlite) == [
                "CREATE TABLE IF NOT EXISTS log (rowid bigserial PRIMARY KEY, n bigint NOT NULL, body bytea, at double precision)",
                "CREATE TABLE IF NOT EXISTS sums (day TEXT NOT NULL, count bigint NOT NULL DEFAULT 0, PRIMARY KEY (day))",
                "CREATE TABLE IF NOT EXISTS notices (id bigserial PRIMARY KEY, points_integer_total bigint)",
            ]
        )
    }
}
