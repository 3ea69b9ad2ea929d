import CProgramSignals
import Foundation
import ServiceLifecycle
import Synchronization

/// SIGINT and SIGTERM handled the way libzmq needs: blocked before any thread exists, so that no
/// libzmq I/O thread is ever interrupted (a signal that lands there can leave a blocking call with
/// EINTR and never reach a handler), and turned into a value that one thread waits for. The C side
/// (CProgramSignals) does the blocking in a constructor that runs before `main`; an async `main`
/// runs on a pool thread, too late and in the wrong thread to do it.
///
/// Only programs link this module: a library takes no process-wide action, so a program built on
/// GridBusClient keeps its signals as it set them.
public enum TerminationSignals {
    /// Call first thing in `main`: checks that the signals were blocked before any thread started.
    public static func block() {
        precondition(gridbus_termination_signals_ready() == 1, "SIGINT/SIGTERM were not set up before main")
    }
}

/// A service that returns when SIGINT or SIGTERM arrives; configure it with
/// `successTerminationBehavior: .gracefullyShutdownGroup` so that the whole group drains and stops.
///
/// SIGHUP calls `onHangup` (on the signal thread) and keeps waiting; without a hangup handler it
/// stops the program like SIGTERM, as a hangup traditionally does.
public struct TerminationSignalService: Service, CustomStringConvertible {
    public let description = "TerminationSignalService"
    private let onSignal: @Sendable (Int32) -> Void
    private let onHangup: (@Sendable () -> Void)?

    public init(onHangup: (@Sendable () -> Void)? = nil, onSignal: @escaping @Sendable (Int32) -> Void = { _ in }) {
        self.onSignal = onSignal
        self.onHangup = onHangup
    }

    public func run() async throws {
        let onHangup = self.onHangup
        // Something else stopping the group (gracefully, or by cancelling it after a failure)
        // wakes the signal thread, so that this service returns. A wake-up meant for an earlier
        // run (a standby's, which both a graceful stop and a cancellation may wake) is not this
        // run's: it waits on.
        let stopping = Mutex(false)
        let signal: Int32 = await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
                    let thread = Thread {
                        while true {
                            let signal = gridbus_wait_termination_signal()
                            if signal == SIGHUP, let onHangup {
                                onHangup()
                                continue
                            }
                            if signal == 0, !stopping.withLock({ $0 }) { continue }
                            return continuation.resume(returning: signal)
                        }
                    }
                    thread.name = "signals"
                    thread.start()
                }
            } onGracefulShutdown: {
                stopping.withLock { $0 = true }
                gridbus_wake_termination_waiter()
            }
        } onCancel: {
            stopping.withLock { $0 = true }
            gridbus_wake_termination_waiter()
        }
        if signal != 0 { onSignal(signal) }
    }
}
