import GridPostgres

/// The PostgreSQL journal's tables, as their history (``PostgresMigrations``). Never edit a
/// released migration: add one.
///
/// - `events`: a row per event, keyed by the global sequence; `(source, id)` unique, which makes
///   publishing idempotent across every node and every leader.
/// - `extent`: the stored event bytes (what `journal.max-bytes` limits), kept in the transaction
///   that changes them, so that a new leader need not add up the table.
/// - `lease`: who leads, until when, and the fencing epoch every write checks in its own
///   transaction. Times are PostgreSQL's own clock, the one clock every node shares.
enum PostgresJournalSchema {
    static let schema = "gridbus_journal"
    /// PostgreSQL's name for the unique key on `events (source, id)`: a write it refuses held an
    /// event already journaled.
    static let uniqueEventKey = "events_source_id_key"
    /// The channel the leader notifies in every write's transaction: followers listen on it and
    /// read at once, instead of looking every so often.
    static let writtenChannel = "gridbus_journal_written"

    static let migrations: PostgresMigrations = {
        var migrations = PostgresMigrations(schema: schema)
        migrations.register(
            "journal 1 events, extent, lease",
            statements: [
                """
                CREATE TABLE \(schema).events (
                    seq bigint PRIMARY KEY,
                    received_ms bigint NOT NULL,
                    source text NOT NULL,
                    id text NOT NULL,
                    topic bytea NOT NULL,
                    event bytea NOT NULL,
                    UNIQUE (source, id)
                )
                """,
                """
                CREATE TABLE \(schema).extent (
                    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                    event_bytes bigint NOT NULL
                )
                """,
                "INSERT INTO \(schema).extent (event_bytes) VALUES (0)",
                """
                CREATE TABLE \(schema).lease (
                    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                    holder text NOT NULL,
                    advertise text NOT NULL,
                    epoch bigint NOT NULL,
                    expires_at timestamptz NOT NULL
                )
                """,
                "INSERT INTO \(schema).lease (holder, advertise, epoch, expires_at) VALUES ('', '', 0, '-infinity')",
            ]
        )
        return migrations
    }()
}
