import Foundation
import GridConfiguration
import GridPostgres
import GridStore
import Logging

/// Where a worker's store lives.
public enum StoreLocation: Sendable {
    /// A file of the worker's own (the embedded default).
    case sqlite(path: String)
    /// A schema of the worker's own in a PostgreSQL database, which a standby instance on another
    /// machine may share (docs/operations.md, "Workers on PostgreSQL").
    case postgresql(url: PostgresURL, password: String?, schema: String)
}

/// The keys every worker takes for its store: `store.backend`, `store.url`, `store.password-file`.
public struct StoreSettings: Sendable {
    public var engine = StoreEngine.sqlite
    /// With PostgreSQL: where, and the password from `store.password-file` or
    /// `GRIDBUS_STORE_PASSWORD` (never a flag: flags show in process lists).
    public var url: PostgresURL?
    public var password: String?
    /// With PostgreSQL, where clients reach this instance's HTTP API (a standby's 503 names the
    /// active instance's); empty: `http://<http.host>:<http.port>`.
    public var advertise = ""
    /// With PostgreSQL, how long the store's lease lasts unrenewed: a standby takes over this long
    /// after the active instance stops renewing it.
    public var leaseSeconds = 2.0

    public init() {}

    public static let keys: [ConfigKeySpec] = [
        ConfigKeySpec("store.backend", default: "sqlite", "sqlite (a file in data-dir) or postgresql (a schema of this worker's in store.url)"),
        ConfigKeySpec(
            "store.url",
            default: "",
            "PostgreSQL store: postgresql://USER@HOST[:PORT][,HOST[:PORT]…]/DATABASE[?target_session_attrs=read-write]; no password in it"
        ),
        ConfigKeySpec(
            "store.password-file",
            default: "",
            "file holding the store's PostgreSQL password (mode 0600); else GRIDBUS_STORE_PASSWORD, else none"
        ),
        ConfigKeySpec(
            "store.advertise",
            default: "",
            "with postgresql: this instance's HTTP address for clients, named by a standby's 503 (empty: http://<http.host>:<http.port>)"
        ),
        ConfigKeySpec("store.lease-timeout", default: "2s", "with postgresql: a standby takes over this long after the active instance stops"),
    ]

    /// - Parameter environment: where `GRIDBUS_STORE_PASSWORD` is looked up.
    public init(reader: GridConfigReader, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) {
        engine = try reader.choice("store.backend", default: engine)
        let url = reader.optionalString("store.url").flatMap { $0.isEmpty ? nil : $0 }
        switch engine {
        case .postgresql:
            guard let url else {
                throw reader.error("store.url", nil, "required when store.backend is postgresql, e.g. postgresql://gridbus@db1:5432,db2:5432/gridbus")
            }
            do { self.url = try PostgresURL(parsing: url) } catch { throw reader.error("store.url", error.url, error.reason) }
            let passwordFile = reader.optionalString("store.password-file").flatMap { $0.isEmpty ? nil : $0 }
            do {
                password = try PostgresPassword.resolve(file: passwordFile, variable: "GRIDBUS_STORE_PASSWORD", environment: environment)
            } catch { throw reader.error("store.password-file", error.file, error.reason) }
            advertise = reader.string("store.advertise", default: advertise)
            if !advertise.isEmpty, !advertise.hasPrefix("http://"), !advertise.hasPrefix("https://") {
                throw reader.error("store.advertise", advertise, "not an HTTP address clients can use (e.g. http://10.0.0.12:8080)")
            }
            leaseSeconds = try reader.duration("store.lease-timeout", default: leaseSeconds)
            guard (0.5...60).contains(leaseSeconds) else {
                throw reader.error("store.lease-timeout", String(leaseSeconds), "must be between 500ms and 60s")
            }
        case .sqlite:
            if url != nil { throw reader.error("store.url", url, "is only read with store.backend postgresql") }
        }
    }

    /// The worker's store: `file` (in its data directory) on SQLite, its `schema` on PostgreSQL.
    public func location(file: String, schema: String) -> StoreLocation {
        guard engine == .postgresql, let url else { return .sqlite(path: file) }
        return .postgresql(url: url, password: password, schema: schema)
    }

    /// With PostgreSQL, the lease through which one instance of the worker is active on its
    /// `schema` at a time (``WorkerLease``); nil for SQLite, which has one instance.
    /// - Parameter http: this instance's HTTP address, advertised unless `store.advertise` says otherwise.
    public func lease(schema: String, http: String, logger: Logger) -> WorkerLease? {
        guard engine == .postgresql, let url else { return nil }
        return WorkerLease(
            url: url,
            password: password,
            schema: schema,
            advertise: advertise.isEmpty ? http : advertise,
            seconds: leaseSeconds,
            logger: logger
        )
    }

    /// Where the store is, for logs and status (the URL holds no password).
    public func describe(file: String, schema: String) -> String {
        guard engine == .postgresql, let url else { return file }
        return "\(url) schema \(schema)"
    }
}
