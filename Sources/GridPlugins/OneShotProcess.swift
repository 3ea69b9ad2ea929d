import CProcessSpawn
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One run of a short-lived command (a notification channel plugin): its input on stdin, its
/// output and errors collected, killed with its process group when it overruns its time.
public enum OneShotProcess {
    public struct Result: Sendable {
        /// Nil when it was killed for overrunning.
        public var status: ExitStatus?
        public var standardOutput: [UInt8]
        public var standardError: [UInt8]
        public var timedOut: Bool
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs the command on a thread of its own (waiting for a process must not hold the concurrency
    /// pool, and PR_SET_PDEATHSIG ties the child to the thread that spawned it).
    public static func run(
        executable: String,
        arguments: [String] = [],
        environment: [String: String],
        directory: String,
        input: [UInt8],
        timeout: Double,
        outputLimit: Int = 64 << 10
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(
                        returning: try runBlocking(
                            executable: executable,
                            arguments: arguments,
                            environment: environment,
                            directory: directory,
                            input: input,
                            timeout: timeout,
                            outputLimit: outputLimit
                        )
                    )
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "gridbus-exec"
            thread.start()
        }
    }

    /// ``run(executable:arguments:environment:directory:input:timeout:outputLimit:)``, blocking the
    /// calling thread until the command ends: for callers that own their thread, and for tests.
    public static func runBlocking(
        executable: String,
        arguments: [String],
        environment: [String: String],
        directory: String,
        input: [UInt8],
        timeout: Double,
        outputLimit: Int = 64 << 10
    ) throws -> Result {
        var inPipe: [Int32] = [-1, -1]
        guard gridbus_pipe_cloexec(&inPipe) == 0 else { throw Failure(description: "pipe: \(String(cString: strerror(errno)))") }
        var child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                executable: executable,
                arguments: arguments,
                environment: environment,
                directory: directory,
                now: 0,
                input: inPipe[0]
            )
        } catch {
            close(inPipe[0])
            close(inPipe[1])
            throw Failure(description: error.description)
        }
        close(inPipe[0])
        var writer = inPipe[1]
        _ = fcntl(writer, F_SETFL, fcntl(writer, F_GETFL) | O_NONBLOCK)
        var written = 0
        var outputs: [[UInt8]] = [[], []]
        var exited = false
        var timedOut = false
        let deadline = Date().addingTimeInterval(timeout)
        if input.isEmpty {
            close(writer)
            writer = -1
        }
        // Until it has exited and both pipes are drained (or it overran): feed stdin, read stdout and stderr.
        while !(exited && child.outputs.allSatisfy { $0 < 0 }) {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                timedOut = true
                child.signalGroup(SIGKILL)
                break
            }
            var descriptors = [pollfd(fd: exited ? -1 : child.exitDescriptor, events: Int16(POLLIN), revents: 0)]
            descriptors += child.outputs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            descriptors.append(pollfd(fd: writer, events: Int16(POLLOUT), revents: 0))
            let ready = poll(&descriptors, nfds_t(descriptors.count), Int32(min(remaining, 1) * 1000))
            if ready < 0 && errno != EINTR { break }
            if descriptors[0].revents != 0 { exited = true }
            for index in 0..<2 where descriptors[index + 1].revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 16 << 10)
                let count = read(child.outputs[index], &buffer, buffer.count)
                if count > 0 {
                    if outputs[index].count < outputLimit { outputs[index] += buffer.prefix(min(count, outputLimit - outputs[index].count)) }
                } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                    close(child.outputs[index])
                    child.outputs[index] = -1
                }
            }
            if writer >= 0, descriptors[3].revents != 0 {
                let count = input[written...].withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
                if count > 0 { written += count }
                // Done, or the command closed its stdin without reading it all: either way, no more input.
                if written == input.count || (count < 0 && errno != EAGAIN && errno != EINTR) {
                    close(writer)
                    writer = -1
                }
            }
        }
        if writer >= 0 { close(writer) }
        let status = child.reap(blocking: true)
        child.signalGroup(SIGKILL)  // helpers it left behind
        child.closeAll()
        return Result(status: timedOut ? nil : status, standardOutput: outputs[0], standardError: outputs[1], timedOut: timedOut)
    }
}
