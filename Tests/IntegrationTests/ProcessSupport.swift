import Foundation
import GridBusTestSupport
import Testing

/// The directory holding the built executables (next to the test bundle), or `GRIDBUS_BIN_DIR`.
let binaryDirectory: URL = {
    if let directory = ProcessInfo.processInfo.environment["GRIDBUS_BIN_DIR"] { return URL(fileURLWithPath: directory) }
    return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
}()

/// A child process of the test, with its output collected in files.
final class Child: @unchecked Sendable {
    // @unchecked: `process` is only touched by the test that owns this Child, one call at a time.
    let process = Process()
    let name: String
    let stdoutPath: String
    let stderrPath: String

    /// - Parameter launcher: a command that runs the executable (its path appended to these
    ///   words), such as `ip netns exec NAME`; it must exec it, so that signals reach it.
    init(_ executable: String, _ arguments: [String], in directory: String, environment: [String: String] = [:], launcher: [String] = []) throws {
        name = executable
        let path = binaryDirectory.appendingPathComponent(executable)
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(launcher.dropFirst()) + [path.path] + arguments
        } else {
            process.executableURL = path
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let unique = UUID().uuidString.prefix(8)
        stdoutPath = "\(directory)/\(executable)-\(unique).out"
        stderrPath = "\(directory)/\(executable)-\(unique).err"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the exit; returns the status, or nil (after killing it) if it did not exit in time.
    func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        guard !process.isRunning else {
            signal(SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    /// `kill -9`, and reap it.
    func crash() {
        signal(SIGKILL)
        process.waitUntilExit()
    }
}

/// Runs a command to completion.
func run(
    _ executable: String,
    _ arguments: [String],
    in directory: String,
    environment: [String: String] = [:],
    timeout: Duration = .seconds(30)
) async throws -> (status: Int32?, stdout: String, stderr: String) {
    let child = try Child(executable, arguments, in: directory, environment: environment)
    let status = await child.wait(timeout: timeout)
    return (status, child.stdout, child.stderr)
}

/// Waits until `path` exists and returns its JSON object (gridbusd's ready file).
func readyFile(_ path: String, timeout: Duration = .seconds(20)) async throws -> [String: String] {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        {
            return object.compactMapValues { $0 as? String }
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw CancellationError()
}

/// Starts gridbusd on `*` ports with its data in `directory/name`; returns it and its ready file.
func startDaemon(in directory: String, name: String = "bus") async throws -> (Child, ready: [String: String]) {
    let daemon = try Child(
        "gridbusd",
        [
            "--data-dir", "\(directory)/\(name)", "--security-mode", "none", "--http-port", "0", "--bus-ingress", "tcp://127.0.0.1:*",
            "--bus-egress", "tcp://127.0.0.1:*", "--bus-replay", "tcp://127.0.0.1:*",
        ],
        in: directory
    )
    return (daemon, try await readyFile("\(directory)/\(name)/gridbusd.ready"))
}
