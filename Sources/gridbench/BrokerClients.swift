import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP connection with a read buffer: just enough for the three brokers' wire protocols
/// (NATS, RESP, MQTT 3.1.1) that (o) compares gridbusd with. Each broker gets the same kind of
/// client, written the same way, so that the comparison measures the brokers.
final class BrokerSocket: @unchecked Sendable {  // used by one thread at a time
    let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var scratch = [UInt8](repeating: 0, count: 1 << 16)
    private var pendingWrite: [UInt8] = []

    /// - Parameter timeout: seconds a read waits for the broker (a failover probe waits less).
    init(port: Int, timeout: Int = 30) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw BenchError("cannot connect to 127.0.0.1:\(port)")
        }
    }

    deinit { close(fd) }

    /// Queues bytes; `flush` sends them (batching small writes, as every broker's own client does).
    func write(_ bytes: [UInt8]) { pendingWrite += bytes }

    func flush() throws {
        var offset = 0
        while offset < pendingWrite.count {
            let sent = pendingWrite[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw BenchError("the broker closed the connection") }
            offset += sent
        }
        pendingWrite.removeAll(keepingCapacity: true)
    }

    private func fill() throws {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 1 << 20 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let count = read(fd, &scratch, scratch.count)
        guard count > 0 else { throw BenchError(count == 0 ? "the broker closed the connection" : "no answer from the broker in time") }
        buffer += scratch[0..<count]
    }

    /// A line ending in CRLF, without it.
    func line() throws -> [UInt8] {
        while true {
            if let end = buffer[start...].firstIndex(of: 0x0A), end > start, buffer[end - 1] == 0x0D {
                let line = Array(buffer[start..<(end - 1)])
                start = end + 1
                return line
            }
            try fill()
        }
    }

    func bytes(_ count: Int) throws -> [UInt8] {
        while buffer.count - start < count { try fill() }
        let result = Array(buffer[start..<(start + count)])
        start += count
        return result
    }

    func byte() throws -> UInt8 { try bytes(1)[0] }
}

/// NATS core and JetStream, over the text protocol.
final class NATSClient: @unchecked Sendable {
    let socket: BrokerSocket

    init(port: Int, timeout: Int = 30) throws {
        socket = try BrokerSocket(port: port, timeout: timeout)
        _ = try socket.line()  // INFO {...}
        socket.write(Array("CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":false}\r\nPING\r\n".utf8))
        try socket.flush()
        while try String(decoding: socket.line(), as: UTF8.self) != "PONG" {}
    }

    func publish(_ subject: String, reply: String? = nil, _ payload: [UInt8]) {
        socket.write(Array("PUB \(subject)\(reply.map { " " + $0 } ?? "") \(payload.count)\r\n".utf8) + payload + [0x0D, 0x0A])
    }

    func subscribe(_ subject: String, id: Int) throws {
        socket.write(Array("SUB \(subject) \(id)\r\n".utf8))
        try ping()
    }

    /// A round trip: everything sent before it has been processed by the server.
    func ping() throws {
        socket.write(Array("PING\r\n".utf8))
        try socket.flush()
        while true {
            if let message = try next(), message.payload.isEmpty && message.subject == "PONG" { return }
        }
    }

    /// The next MSG (subject, reply, payload); answers the server's PINGs; a PONG comes back as an empty "PONG".
    func next() throws -> (subject: String, reply: String?, payload: [UInt8])? {
        while true {
            let line = try socket.line()
            if line.starts(with: Array("MSG ".utf8)) {
                let fields = line.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
                guard let size = Int(fields.last ?? "") else { throw BenchError("bad NATS MSG line") }
                let payload = try socket.bytes(size + 2).dropLast(2)
                return (fields[1], fields.count == 5 ? fields[3] : nil, Array(payload))
            }
            switch String(decoding: line, as: UTF8.self) {
            case "PING":
                socket.write(Array("PONG\r\n".utf8))
                try socket.flush()
            case "PONG": return ("PONG", nil, [])
            case "+OK": continue
            case let other where other.hasPrefix("-ERR"): throw BenchError("NATS: \(other)")
            default: continue
            }
        }
    }

    /// A JetStream API request and its answer (JSON).
    func request(_ subject: String, _ body: String) throws -> String {
        try subscribe("_INBOX.api", id: 900)
        publish(subject, reply: "_INBOX.api", Array(body.utf8))
        try socket.flush()
        while let message = try next() {
            if message.subject == "_INBOX.api" { return String(decoding: message.payload, as: UTF8.self) }
        }
        throw BenchError("no JetStream answer")
    }
}

/// Redis pub/sub over RESP.
final class RedisClient: @unchecked Sendable {
    let socket: BrokerSocket

    init(port: Int) throws { socket = try BrokerSocket(port: port) }

    static func command(_ parts: [[UInt8]]) -> [UInt8] {
        var bytes = Array("*\(parts.count)\r\n".utf8)
        for part in parts { bytes += Array("$\(part.count)\r\n".utf8) + part + [0x0D, 0x0A] }
        return bytes
    }

    func publish(_ channel: String, _ payload: [UInt8]) { socket.write(Self.command([Array("PUBLISH".utf8), Array(channel.utf8), payload])) }

    /// Reads one reply of PUBLISH (`:N`).
    func publishReply() throws {
        let line = try socket.line()
        guard line.first == UInt8(ascii: ":") else { throw BenchError("Redis: \(String(decoding: line, as: UTF8.self))") }
    }

    func subscribe(_ channel: String) throws {
        socket.write(Self.command([Array("SUBSCRIBE".utf8), Array(channel.utf8)]))
        try socket.flush()
        _ = try message()  // the subscribe confirmation
    }

    /// The next pushed array: ["message", channel, payload] (or the subscribe confirmation).
    func message() throws -> [UInt8] {
        let header = try socket.line()
        guard header.first == UInt8(ascii: "*"), let count = Int(String(decoding: header.dropFirst(), as: UTF8.self)) else {
            throw BenchError("Redis: unexpected \(String(decoding: header, as: UTF8.self))")
        }
        var last: [UInt8] = []
        for _ in 0..<count {
            let item = try socket.line()
            if item.first == UInt8(ascii: "$"), let size = Int(String(decoding: item.dropFirst(), as: UTF8.self)) {
                last = Array(try socket.bytes(size + 2).dropLast(2))
            } else {
                last = Array(item.dropFirst())
            }
        }
        return last
    }
}

/// MQTT 3.1.1 (Mosquitto): QoS 0 publish and subscribe, QoS 1 publish with PUBACK.
final class MQTTClient: @unchecked Sendable {
    let socket: BrokerSocket

    init(port: Int, clientID: String) throws {
        socket = try BrokerSocket(port: port)
        let id = Array(clientID.utf8)
        let variable: [UInt8] = [0, 4] + Array("MQTT".utf8) + [4, 0x02, 0, 60]  // level 4, clean session, keep-alive 60 s
        socket.write(Self.packet(0x10, variable + [UInt8(id.count >> 8), UInt8(id.count & 0xFF)] + id))
        try socket.flush()
        let (type, body) = try read()
        guard type == 0x20, body.count == 2, body[1] == 0 else { throw BenchError("MQTT: connection refused") }
    }

    static func packet(_ header: UInt8, _ body: [UInt8]) -> [UInt8] {
        var length = body.count
        var encoded: [UInt8] = []
        repeat {
            var digit = UInt8(length % 128)
            length /= 128
            if length > 0 { digit |= 0x80 }
            encoded.append(digit)
        } while length > 0
        return [header] + encoded + body
    }

    static func string(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        return [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
    }

    func publish(_ topic: String, _ payload: [UInt8], packetID: UInt16? = nil) {
        if let packetID {
            socket.write(Self.packet(0x32, Self.string(topic) + [UInt8(packetID >> 8), UInt8(packetID & 0xFF)] + payload))
        } else {
            socket.write(Self.packet(0x30, Self.string(topic) + payload))
        }
    }

    func subscribe(_ topic: String) throws {
        socket.write(Self.packet(0x82, [0, 1] + Self.string(topic) + [0]))
        try socket.flush()
        while try read().type != 0x90 {}
    }

    /// The next packet: its type (high nibble with flags) and body.
    func read() throws -> (type: UInt8, body: [UInt8]) {
        let type = try socket.byte()
        var length = 0
        var multiplier = 1
        while true {
            let digit = try socket.byte()
            length += Int(digit & 0x7F) * multiplier
            multiplier *= 128
            if digit & 0x80 == 0 { break }
        }
        return (type, try socket.bytes(length))
    }

    /// The payload of a QoS 0 PUBLISH body.
    static func payload(of body: [UInt8]) -> ArraySlice<UInt8> {
        let topicLength = Int(body[0]) << 8 | Int(body[1])
        return body[(2 + topicLength)...]
    }
}
