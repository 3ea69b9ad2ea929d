import Foundation
import GridJSON

#if canImport(Glibc)
import Glibc
#endif

/// One keep-alive HTTP/1.1 connection with blocking calls, for a load generator's own threads (never
/// the concurrency pool). It reconnects on the next request after any failure; the caller decides
/// whether to retry (with the same `Idempotency-Key`, so a retry never doubles a report).
public final class HTTPConnection {
    public struct Response: Sendable {
        public let status: Int
        public let body: [UInt8]
        /// The answer as JSON (nil when it is not).
        public var json: JSONValue? { try? JSONValue(parsing: body) }
        /// The `id` of what a successful POST made (201) or had made before (200, a retry).
        public var createdID: String? { status == 201 || status == 200 ? json?["id"]?.stringValue : nil }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let host: String
    public let port: Int
    private let headers: String
    private let timeoutSeconds: Int
    private var socket: Int32 = -1
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)
    private var pending: [UInt8] = []

    /// `url` is `http://HOST:PORT` (no path); `bearer` adds `Authorization: Bearer KEY` to every request.
    public init(url: String, bearer: String?, timeoutSeconds: Int = 10) throws(Failure) {
        guard let parsed = URL(string: url), parsed.scheme == "http", let host = parsed.host, let port = parsed.port ?? 80 as Int? else {
            throw Failure(description: "'\(url)' is not an http://HOST:PORT address")
        }
        self.host = host
        self.port = port
        self.timeoutSeconds = timeoutSeconds
        headers = "Host: \(host):\(port)\r\n" + (bearer.map { "Authorization: Bearer \($0)\r\n" } ?? "")
    }

    deinit { disconnect() }

    public func disconnect() {
        if socket >= 0 { close(socket) }
        socket = -1
        pending.removeAll()
    }

    /// Sends one request and reads the whole answer. Any transport failure closes the connection.
    public func send(_ method: String, _ path: String, json body: JSONValue? = nil, idempotencyKey: String? = nil) throws(Failure) -> Response {
        do {
            if socket < 0 { try connect() }
            var head = "\(method) \(path) HTTP/1.1\r\n\(headers)"
            if let idempotencyKey { head += "Idempotency-Key: \(idempotencyKey)\r\n" }
            var payload: [UInt8] = []
            if let body {
                payload = (try? body.jsonBytes()) ?? []
                head += "Content-Type: application/json\r\n"
            }
            head += "Content-Length: \(payload.count)\r\n\r\n"
            try write(Array(head.utf8) + payload)
            return try readResponse()
        } catch {
            disconnect()
            throw error
        }
    }

    private func connect() throws(Failure) {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let address = info else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(info) }
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        guard Glibc.connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot connect to \(host):\(port): \(reason)")
        }
        socket = fd
    }

    private func write(_ bytes: [UInt8]) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw Failure(description: "\(host):\(port) closed the connection while sending") }
            offset += written
        }
    }

    /// More bytes into `pending`.
    private func fill() throws(Failure) {
        let count = read(socket, &buffer, buffer.count)
        guard count > 0 else {
            throw Failure(description: count == 0 ? "\(host):\(port) closed the connection" : "no answer from \(host):\(port) in \(timeoutSeconds) s")
        }
        pending += buffer[0..<count]
    }

    private func readResponse() throws(Failure) -> Response {
        let separator = Array("\r\n\r\n".utf8)
        var headEnd: Range<Int>?
        while true {
            headEnd = pending.firstRange(of: separator)
            if headEnd != nil { break }
            try fill()
        }
        let head = String(decoding: pending[..<headEnd!.lowerBound], as: UTF8.self)
        pending.removeSubrange(..<headEnd!.upperBound)
        let lines = head.split(separator: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw Failure(description: "\(host):\(port) sent a malformed status line")
        }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body: [UInt8] = []
        if fields["transfer-encoding"]?.lowercased() == "chunked" {
            while true {
                let lineEnd = Array("\r\n".utf8)
                while pending.firstRange(of: lineEnd) == nil { try fill() }
                let end = pending.firstRange(of: lineEnd)!
                let sizeText = String(decoding: pending[..<end.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw Failure(description: "bad chunk size from \(host):\(port)")
                }
                pending.removeSubrange(..<end.upperBound)
                while pending.count < size + 2 { try fill() }
                body += pending[0..<size]
                pending.removeSubrange(..<(size + 2))
                if size == 0 { break }
            }
        } else {
            let length = Int(fields["content-length"] ?? "0") ?? 0
            while pending.count < length { try fill() }
            body = Array(pending[0..<length])
            pending.removeSubrange(..<length)
        }
        if fields["connection"]?.lowercased() == "close" { disconnect() }
        return Response(status: status, body: body)
    }
}
