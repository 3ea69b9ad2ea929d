import Foundation
import GridConfiguration
import ZeroMQ

/// A benchmarked server process (gridbusd or the C proxy).
final class Server: Sendable {
    let process = Process()
    let name: String

    init(_ executable: URL, _ arguments: [String], log: String) throws {
        name = executable.lastPathComponent
        process.executableURL = executable
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = process.standardError
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// Peak resident set size so far (VmHWM), in bytes.
    var peakRSS: Int { statusField("VmHWM") }
    /// Current resident set size (VmRSS), in bytes.
    var currentRSS: Int { statusField("VmRSS") }

    /// CPU time used so far (user + system, all threads), in seconds.
    var cpuSeconds: Double { processCPUSeconds(pid: pid) }

    private func statusField(_ field: String) -> Int { statusBytes(pid: pid, field: field) }

    /// SIGTERM, then wait; safe to call twice.
    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        process.waitUntilExit()
    }
}

/// A size field of /proc/PID/status (VmRSS, VmHWM) in bytes; 0 once the process is gone.
func statusBytes(pid: Int32, field: String) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
        let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    else { return 0 }
    return kilobytes * 1024
}

/// A TCP port nothing listens on right now.
func freePort(_ context: ZMQContext) throws -> Int {
    let socket = try ZMQSocket(context: context, type: .router)
    try socket.bind("tcp://127.0.0.1:*")
    let port = Int(try socket.lastEndpoint.split(separator: ":").last!)!
    socket.close()
    return port
}

/// Starts gridbusd on free ports in a fresh data directory and waits until it is ready.
func startDaemon(bin: URL, directory: String, extra: [String] = []) throws -> (Server, ingress: String, egress: String, replay: String) {
    try? FileManager.default.removeItem(atPath: directory)
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let server = try Server(
        bin.appendingPathComponent("gridbusd"),
        [
            "--data-dir", directory, "--http-port", "0", "--log-level", "warning", "--bus-ingress", "tcp://127.0.0.1:*",
            "--bus-egress", "tcp://127.0.0.1:*", "--bus-replay", "tcp://127.0.0.1:*",
        ] + (extra.contains("--security-mode") ? [] : ["--security-mode", "none"]) + extra,
        log: directory + "/gridbusd.log"
    )
    if let ready = ListeningAddresses.awaitReadyFile(directory + "/gridbusd.ready"), let ingress = ready.ingress, let egress = ready.egress,
        let replay = ready.replay
    {
        return (server, ingress, egress, replay)
    }
    server.stop()
    throw BenchError("gridbusd did not start; see \(directory)/gridbusd.log")
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` on a dedicated thread (sockets are blocking here) and waits for its result.
func onThread<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
    let result = BoundedBuffer<Result<T, any Error>>(capacity: 1)
    let thread = ZMQThread(name: name) { _ = result.tryPush(Result { try body() }) }
    thread.joinBlocking(timeout: 3600)
    guard let outcome = result.popAvailable().first else { throw BenchError("\(name) did not finish") }
    return try outcome.get()
}

/// A thread started now and joined later.
final class Background<T: Sendable>: Sendable {
    private let result = BoundedBuffer<Result<T, any Error>>(capacity: 1)
    private let thread: ZMQThread

    init(_ name: String, _ body: @escaping @Sendable () throws -> T) {
        let result = self.result
        thread = ZMQThread(name: name) { _ = result.tryPush(Result { try body() }) }
    }

    func value() throws -> T {
        thread.joinBlocking(timeout: 3600)
        guard let outcome = result.popAvailable().first else { throw BenchError("background thread did not finish") }
        return try outcome.get()
    }
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Runs async work from the synchronous command and waits for it on this (non-pool) thread.
func blockingAsync<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = BoundedBuffer<Result<T, any Error>>(capacity: 1)
    let done = DispatchSemaphore(value: 0)
    Task {
        let outcome: Result<T, any Error>
        do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
        _ = result.tryPush(outcome)
        done.signal()
    }
    done.wait()
    guard let outcome = result.popAvailable().first else { throw BenchError("the work did not finish") }
    return try outcome.get()
}

/// CPU time a process used so far (user + system, all threads), in seconds, from /proc/PID/stat.
func processCPUSeconds(pid: Int32) -> Double {
    guard let fields = statFields(pid: pid), let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// The CPU seconds of a process and of all its children, those that ended included (a server
/// that forks a process per connection, as PostgreSQL does).
func processTreeCPUSeconds(pid: Int32) -> Double {
    guard let fields = statFields(pid: pid), let waitedFor = Double(fields[13]), let waitedForSystem = Double(fields[14]) else { return 0 }
    let children = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter {
        statFields(pid: $0).map { Int32($0[1]) == pid } ?? false
    }
    let ticks = waitedFor + waitedForSystem
    return processCPUSeconds(pid: pid) + ticks / Double(sysconf(Int32(_SC_CLK_TCK))) + children.map { processCPUSeconds(pid: $0) }.reduce(0, +)
}

/// The fields of /proc/PID/stat after the name, from the state (field 3 of proc(5), index 0
/// here): ppid at 1, utime 11, stime 12, cutime 13, cstime 14.
private func statFields(pid: Int32) -> [Substring]? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let afterName = text.range(of: ") ", options: .backwards)
    else { return nil }
    let fields = text[afterName.upperBound...].split(separator: " ")
    return fields.count > 14 ? fields : nil
}
