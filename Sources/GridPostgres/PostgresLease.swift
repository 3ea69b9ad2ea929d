import GridStore
import PostgresNIO

/// A lease held in a one-row PostgreSQL table, by PostgreSQL's clock (the one clock every holder
/// shares): who holds it, where others reach the holder, until when, and a fencing epoch that
/// grows each time the lease changes hands. A holder renews it well within `seconds`; a lease
/// left unrenewed that long is taken by the next claimant, with the next epoch. Every write of
/// the holder checks the epoch in its own transaction (``fence(_:)``), so a holder that lost the
/// lease while paused writes nothing, even before it knows.
///
/// Worker instances sharing one store use it (one active, the others waiting); the journal's
/// nodes hold the same kind of row (`gridbus_journal.lease`).
public struct PostgresLease: Sendable {
    /// The lease table, schema-qualified and quoted.
    public let table: String
    /// This process: a restarted one is a new holder, and takes the lease with a new epoch.
    public let holder: String
    public let seconds: Double
    private let schema: String
    private let epochIndex: String

    public init(schema: String, table: String = "gridbus_lease", holder: String, seconds: Double) {
        self.schema = StoreSQL.identifier(schema)
        self.table = self.schema + "." + StoreSQL.identifier(table)
        epochIndex = StoreSQL.identifier(table + "_epoch")
        self.holder = holder
        self.seconds = seconds
    }

    /// Creates the schema, the table and its one row (unheld) unless they exist: the lease is
    /// needed before anything else of the store (a standby claims it before it migrates).
    /// Instances starting together may race here; the loser's statement fails and it tries again.
    public func prepare(on link: PostgresLink) throws(PostgresLinkError) {
        try link.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"))
        try link.query(
            PostgresQuery(
                unsafeSQL: """
                    CREATE TABLE IF NOT EXISTS \(table) (
                        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                        holder text NOT NULL, advertise text NOT NULL, epoch bigint NOT NULL, expires_at timestamptz NOT NULL
                    )
                    """
            )
        )
        // The epoch is a key (a unique index): so a renewal, which leaves it as it is, does not wait
        // for the writes the fence holds, and a takeover, which changes it, does (see `fence`).
        try link.query(PostgresQuery(unsafeSQL: "CREATE UNIQUE INDEX IF NOT EXISTS \(epochIndex) ON \(table) (epoch)"))
        try link.query(
            PostgresQuery(
                unsafeSQL: "INSERT INTO \(table) (holder, advertise, epoch, expires_at) VALUES ('', '', 0, '-infinity') ON CONFLICT DO NOTHING"
            )
        )
    }

    /// Renews this holder's lease (`epoch`, the one it holds; -1 for none) or takes it if it has
    /// lapsed. Returns the epoch held now, or nil when another holder has it.
    public func claim(epoch: Int64, advertise: String, on link: PostgresLink) throws(PostgresLinkError) -> Int64? {
        let milliseconds = Int64(seconds * 1000)
        let taken = try link.query(
            """
            UPDATE \(unescaped: table)
            SET epoch = CASE WHEN holder = \(holder) AND epoch = \(epoch) THEN epoch ELSE epoch + 1 END,
                holder = \(holder), advertise = \(advertise), expires_at = now() + \(milliseconds) * interval '1 millisecond'
            WHERE (holder = \(holder) AND epoch = \(epoch)) OR expires_at < now()
            RETURNING epoch
            """
        )
        guard let row = taken.rows.first else { return nil }
        do { return try row.decode(Int64.self) } catch { throw PostgresLinkError(error) }
    }

    /// Who holds the lease: where to reach them, and whether it is still live (unexpired).
    public func holderNow(on link: PostgresLink) throws(PostgresLinkError) -> (advertise: String, live: Bool) {
        let rows = try link.query("SELECT advertise, expires_at > now() FROM \(unescaped: table)").rows
        guard let row = rows.first else { throw .server(sqlState: "02000", message: "the lease row of \(table) is missing") }
        do { return try row.decode((String, Bool).self) } catch { throw PostgresLinkError(error) }
    }

    /// Lets the lease go at once (a graceful stop): the next claimant need not wait for it to lapse.
    public func handBack(epoch: Int64, on link: PostgresLink) {
        _ = try? link.query("UPDATE \(unescaped: table) SET expires_at = '-infinity' WHERE holder = \(holder) AND epoch = \(epoch)")
    }

    /// A statement that returns one row while the lease still carries `epoch`, and locks its key
    /// (`FOR KEY SHARE`) until the transaction ends: a transaction that finds no row must write
    /// nothing, and a new holder's claim, which changes the epoch (a key: PostgreSQL takes
    /// `FOR UPDATE` for it), waits for every transaction that found it, so that the new holder
    /// starts from all they wrote. The holder's renewals change no key (`FOR NO KEY UPDATE`, which
    /// `FOR KEY SHARE` does not block): however long a write transaction lasts, the lease is renewed
    /// meanwhile. (With `FOR SHARE`, a write transaction longer than the lease lost it.)
    public func fence(_ epoch: Int64) -> String {
        "SELECT epoch FROM \(table) WHERE epoch = \(epoch) FOR KEY SHARE"
    }
}
