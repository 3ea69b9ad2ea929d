import Foundation
import GridDistrict
import GridSchema

#if canImport(Glibc)
import Glibc
#endif

/// (i) Point-in-grid lookups in a synthetic district: returns build seconds and (p50, p99, max) in µs.
func measureGridIndex(grids count: Int, lookups: Int) -> (build: Double, p50: Double, p99: Double, max: Double, inside: Int) {
    let grids = SampleDistrict(gridCount: count, seed: 7).generate().grids
    let started = now()
    let index = GridIndex(grids: grids)
    let build = Double(now() - started) / 1e9
    var random = SystemRandomNumberGenerator()
    let points = (0..<lookups).map { _ in
        GeoPoint(latitude: Double.random(in: 30.1...30.35, using: &random), longitude: Double.random(in: 120.0...120.3, using: &random))
    }
    var latencies: [UInt64] = []
    latencies.reserveCapacity(lookups)
    var inside = 0
    for point in points {
        let start = now()
        let found = index.grid(containing: point)
        latencies.append(now() - start)
        if found != nil { inside += 1 }
    }
    latencies.sort()
    func micro(_ q: Double) -> Double { Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))]) / 1000 }
    return (build, micro(0.5), micro(0.99), Double(latencies.last!) / 1000, inside)
}

/// (j) `POST /v1/incidents` at a fixed offered rate over keep-alive connections, each paced on its
/// own schedule; latency counts from the scheduled send time, so a stall is not hidden by waiting
/// (no coordinated omission). Returns the achieved rate, latencies and the ids of accepted reports.
func measureIntake(
    host: String,
    port: Int,
    rate: Int,
    seconds: Int,
    connections: Int
) throws -> (rate: Double, p50: Double, p99: Double, max: Double, accepted: Int, failed: Int) {
    let perConnection = rate / connections
    let workers = (0..<connections).map { worker in
        Background<([UInt64], Int, Int)>("http-\(worker)") {
            let socket = try connectTCP(host: host, port: port)
            defer { close(socket) }
            var latencies: [UInt64] = []
            var accepted = 0
            var failed = 0
            let interval = 1_000_000_000 / UInt64(perConnection)
            let start = now() + UInt64(worker) * interval / UInt64(connections)
            var buffer = [UInt8](repeating: 0, count: 65536)
            for n in 0..<(perConnection * seconds) {
                let due = start + UInt64(n) * interval
                let current = now()
                if current < due { usleep(UInt32((due - current) / 1000)) }
                let body =
                    #"{"category":"E-01-02","description":"bench \#(worker)-\#(n)","location":{"latitude":30.2\#(n % 10),"longitude":120.1\#(n % 7)}}"#
                let request =
                    "POST /v1/incidents HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                try writeAll(socket, Array(request.utf8))
                let status = try readResponse(socket, &buffer)
                latencies.append(now() - due)
                if status == 201 { accepted += 1 } else { failed += 1 }
            }
            return (latencies, accepted, failed)
        }
    }
    let started = now()
    var latencies: [UInt64] = []
    var accepted = 0
    var failed = 0
    for worker in workers {
        let (values, ok, bad) = try worker.value()
        latencies += values
        accepted += ok
        failed += bad
    }
    let elapsed = Double(now() - started) / 1e9
    latencies.sort()
    func milli(_ q: Double) -> Double { Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))]) / 1e6 }
    return (Double(accepted + failed) / elapsed, milli(0.5), milli(0.99), Double(latencies.last ?? 0) / 1e6, accepted, failed)
}

func connectTCP(host: String, port: Int) throws -> Int32 {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, host, &address.sin_addr)
    var one: Int32 = 1
    setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard result == 0 else { throw BenchError("connect \(host):\(port): \(String(cString: strerror(errno)))") }
    return socket
}

func writeAll(_ socket: Int32, _ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(socket, $0.baseAddress, $0.count) }
        guard written > 0 else { throw BenchError("write: \(String(cString: strerror(errno)))") }
        offset += written
    }
}

/// Reads one HTTP/1.1 response with a Content-Length body; returns its status code.
func readResponse(_ socket: Int32, _ buffer: inout [UInt8]) throws -> Int {
    var received: [UInt8] = []
    while true {
        let count = read(socket, &buffer, buffer.count)
        guard count > 0 else { throw BenchError("the server closed the connection") }
        received += buffer[0..<count]
        guard let end = received.firstRange(of: Array("\r\n\r\n".utf8)) else { continue }
        let head = String(decoding: received[..<end.lowerBound], as: UTF8.self)
        let length =
            head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        while received.count < end.upperBound + length {
            let more = read(socket, &buffer, buffer.count)
            guard more > 0 else { throw BenchError("the server closed the connection mid-body") }
            received += buffer[0..<more]
        }
        return Int(head.split(separator: " ")[1]) ?? 0
    }
}
