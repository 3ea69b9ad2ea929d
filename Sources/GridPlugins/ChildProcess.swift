import CProcessSpawn
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One running plugin process: its pid (also its process group), a pidfd that becomes readable when
/// it exits, and the read ends of its stdout and stderr.
struct ChildProcess {
    let pid: pid_t
    let exitDescriptor: Int32
    var outputs: [Int32]
    let startedAt: Double

    struct SpawnError: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts the executable; returns once it has exec'd (a missing or non-executable file is an error here).
    static func spawn(
        executable: String,
        arguments: [String],
        environment: [String: String],
        directory: String,
        now: Double,
        input: Int32 = -1
    ) throws(SpawnError) -> ChildProcess {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard gridbus_pipe_cloexec(&outPipe) == 0 else { throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))") }
        guard gridbus_pipe_cloexec(&errPipe) == 0 else {
            close(outPipe[0])
            close(outPipe[1])
            throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        let pid = gridbus_spawn(executable, argv, envp, directory, input, outPipe[1], errPipe[1])
        close(outPipe[1])
        close(errPipe[1])
        guard pid > 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(-pid)))")
        }
        let exitDescriptor = gridbus_pidfd_open(pid)
        guard exitDescriptor >= 0 else {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            close(outPipe[0])
            close(errPipe[0])
            throw SpawnError(description: "pidfd_open: \(String(cString: strerror(-exitDescriptor)))")
        }
        for fd in [outPipe[0], errPipe[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return ChildProcess(pid: pid, exitDescriptor: exitDescriptor, outputs: [outPipe[0], errPipe[0]], startedAt: now)
    }

    /// Sends a signal to the whole process group, so that helpers the plugin started go too.
    func signalGroup(_ signal: Int32) { kill(-pid, signal) }

    /// Reaps the process if it has exited; returns how it ended.
    func reap(blocking: Bool) -> ExitStatus? {
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, blocking ? 0 : WNOHANG) } while result < 0 && errno == EINTR
        guard result == pid else { return nil }
        return ExitStatus(waitStatus: status)
    }

    mutating func closeAll() {
        close(exitDescriptor)
        for fd in outputs where fd >= 0 { close(fd) }
        outputs = [-1, -1]
    }
}

/// How a process ended.
public struct ExitStatus: Equatable, Sendable, CustomStringConvertible {
    public let code: Int32?
    public let signal: Int32?

    init(waitStatus status: Int32) {
        let low = status & 0x7f
        if low == 0 {
            code = (status >> 8) & 0xff
            signal = nil
        } else {
            code = nil
            signal = low
        }
    }

    public var success: Bool { code == 0 }
    public var description: String { code.map { "exit status \($0)" } ?? "killed by signal \(signal ?? 0)" }
}
