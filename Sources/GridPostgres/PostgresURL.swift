import Foundation

/// A PostgreSQL connection URL as libpq writes it, hosts listed in turn:
/// `postgresql://gridbus@db1:5432,db2:5432/gridbus?target_session_attrs=read-write`.
///
/// The host list and `target_session_attrs` are libpq's features, not postgres-nio's: ``PostgresLink``
/// tries the hosts in order and, for `read-write`, takes the first that is not in recovery (the
/// primary), which is how a client finds the new primary after a failover.
///
/// A password in the URL is refused: a URL travels in flags, `ps` and log lines. It comes from a
/// file or the environment (``PostgresPassword``).
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    public struct Host: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        public let port: Int
        public init(name: String, port: Int = 5432) {
            self.name = name
            self.port = port
        }
        public var description: String { name.contains(":") ? "[\(name)]:\(port)" : "\(name):\(port)" }
    }

    /// Which server a session may use (libpq's `target_session_attrs`).
    public enum SessionTarget: String, Sendable, CaseIterable {
        /// The primary: `pg_is_in_recovery()` is false. What a writer needs.
        case readWrite = "read-write"
        /// The first server that answers.
        case any
    }

    /// libpq's `sslmode`, the three a client of this kind needs.
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
    }

    public let user: String
    public let hosts: [Host]
    public let database: String
    public let target: SessionTarget
    public let tls: TLSMode
    /// Seconds to wait for each host (libpq's `connect_timeout`).
    public let connectTimeout: Double
    /// What the server shows in `pg_stat_activity` and `pg_stat_replication`.
    public let applicationName: String?

    /// The URL without anything secret (there is nothing secret in it): for logs and `gridctl status`.
    public var description: String {
        var text = "postgresql://\(user)@\(hosts.map(\.description).joined(separator: ","))/\(database)"
        var query = ["target_session_attrs=\(target.rawValue)", "sslmode=\(tls.rawValue)"]
        if let applicationName { query.append("application_name=\(applicationName)") }
        text += "?" + query.joined(separator: "&")
        return text
    }

    public init(
        user: String,
        hosts: [Host],
        database: String,
        target: SessionTarget = .readWrite,
        tls: TLSMode = .prefer,
        connectTimeout: Double = 5,
        applicationName: String? = nil
    ) {
        self.user = user
        self.hosts = hosts
        self.database = database
        self.target = target
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.applicationName = applicationName
    }

    /// Parses `postgresql://USER@HOST[:PORT][,HOST[:PORT]…]/DATABASE[?key=value&…]`.
    /// - Throws: ``PostgresURLError`` naming what is wrong.
    public init(parsing text: String) throws(PostgresURLError) {
        let schemes = ["postgresql://", "postgres://"]
        guard let scheme = schemes.first(where: { text.hasPrefix($0) }) else {
            throw PostgresURLError(text, "must start with postgresql:// (e.g. postgresql://gridbus@db1:5432,db2:5432/gridbus)")
        }
        var rest = Substring(text.dropFirst(scheme.count))
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let at = rest.lastIndex(of: "@") else {
            throw PostgresURLError(text, "names no user: write postgresql://USER@HOST/DATABASE")
        }
        let userInfo = rest[..<at]
        if userInfo.contains(":") {
            throw PostgresURLError(
                text,
                "carries a password: URLs end up in flags, process lists and logs; give the password in a file or the environment instead"
            )
        }
        guard !userInfo.isEmpty else { throw PostgresURLError(text, "names no user: write postgresql://USER@HOST/DATABASE") }
        user = Self.percentDecoded(userInfo)
        rest = rest[rest.index(after: at)...]
        let hostList: Substring
        if let slash = rest.firstIndex(of: "/") {
            hostList = rest[..<slash]
            database = Self.percentDecoded(rest[rest.index(after: slash)...])
        } else {
            hostList = rest
            database = ""
        }
        guard !database.isEmpty else { throw PostgresURLError(text, "names no database: write postgresql://USER@HOST/DATABASE") }
        var hosts: [Host] = []
        for item in hostList.split(separator: ",", omittingEmptySubsequences: false) {
            hosts.append(try Self.host(item, in: text))
        }
        self.hosts = hosts
        var target = SessionTarget.readWrite
        var tls = TLSMode.prefer
        var connectTimeout = 5.0
        var applicationName: String?
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let value = parts.count > 1 ? Self.percentDecoded(parts[1]) : ""
            switch key {
            case "target_session_attrs":
                guard let chosen = SessionTarget(rawValue: value) else {
                    throw PostgresURLError(text, "target_session_attrs=\(value): expected read-write or any")
                }
                target = chosen
            case "sslmode":
                guard let chosen = TLSMode(rawValue: value) else {
                    throw PostgresURLError(text, "sslmode=\(value): expected disable, prefer or require")
                }
                tls = chosen
            case "connect_timeout":
                guard let seconds = Double(value), seconds > 0, seconds <= 600 else {
                    throw PostgresURLError(text, "connect_timeout=\(value): expected seconds between 1 and 600")
                }
                connectTimeout = seconds
            case "application_name":
                applicationName = value
            case "password":
                throw PostgresURLError(
                    text,
                    "carries a password: URLs end up in flags, process lists and logs; give the password in a file or the environment instead"
                )
            default:
                throw PostgresURLError(text, "unknown parameter \(key): known are target_session_attrs, sslmode, connect_timeout, application_name")
            }
        }
        self.target = target
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.applicationName = applicationName
    }

    private static func host(_ item: Substring, in text: String) throws(PostgresURLError) -> Host {
        guard !item.isEmpty else { throw PostgresURLError(text, "has an empty host in its host list") }
        var name = item
        var portText: Substring?
        if item.hasPrefix("[") {
            guard let close = item.firstIndex(of: "]") else { throw PostgresURLError(text, "host \(item): an IPv6 address needs its closing ]") }
            name = item[item.index(after: item.startIndex)..<close]
            let after = item[item.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw PostgresURLError(text, "host \(item): expected :PORT after ]")
            }
        } else if let colon = item.lastIndex(of: ":") {
            name = item[..<colon]
            portText = item[item.index(after: colon)...]
        }
        var port = 5432
        if let portText {
            guard let parsed = Int(portText), (1...65535).contains(parsed) else {
                throw PostgresURLError(text, "host \(item): the port must be 1–65535")
            }
            port = parsed
        }
        guard !name.isEmpty else { throw PostgresURLError(text, "host \(item) has no name") }
        return Host(name: String(name), port: port)
    }

    private static func percentDecoded(_ text: Substring) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), let high = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex), high < utf8.endIndex,
                let low = utf8.index(high, offsetBy: 1, limitedBy: utf8.endIndex), low < utf8.endIndex,
                let value = UInt8(String(decoding: [utf8[high], utf8[low]], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index = utf8.index(after: low)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A PostgreSQL URL that cannot be used: the URL (any password blanked) and the reason.
public struct PostgresURLError: Error, Sendable, CustomStringConvertible {
    public let url: String
    public let reason: String

    init(_ url: String, _ reason: String) {
        self.url = url.replacingPassword()
        self.reason = reason
    }

    public var description: String { "\(url) \(reason)" }
}

extension String {
    /// The URL with the password of `user:password@` (and a `password=` parameter) blanked, for an error message.
    fileprivate func replacingPassword() -> String {
        var text = self
        if let schemeEnd = text.range(of: "://"), let at = text[schemeEnd.upperBound...].lastIndex(of: "@"),
            let colon = text[schemeEnd.upperBound..<at].firstIndex(of: ":")
        {
            text.replaceSubrange(text.index(after: colon)..<at, with: "***")
        }
        if let parameter = text.range(of: "password=") {
            let end = text[parameter.upperBound...].firstIndex(of: "&") ?? text.endIndex
            text.replaceSubrange(parameter.upperBound..<end, with: "***")
        }
        return text
    }
}
