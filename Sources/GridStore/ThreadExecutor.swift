import Foundation

/// A serial executor that runs its jobs on one thread of its own: an actor that owns a SQLite
/// connection uses it so that its statements, commits and fsyncs never occupy a thread of Swift's
/// concurrency pool, which has one thread per core (two here) and is shared by everything else in
/// the process (decoding events, answering HTTP, resuming callers). A commit that waits 2 ms on the
/// disk then holds up nobody but the actor's own callers.
///
/// It is also a task executor: tasks that prefer it (`withTaskExecutorPreference`) run their
/// nonisolated code there too, so a worker's loops and the actor they call share one thread and a
/// call into the actor is not a hand-off to another thread and back (each a wake-up and a context
/// switch: without them the workers took about a tenth less CPU, run AS in docs/benchmarks.md).
///
/// Jobs run one at a time, in the order they were enqueued. The thread starts with the first job
/// and ends once ``shutdown()`` has been called and no job is left; a job enqueued after that starts
/// it again, so that no caller ever waits on an executor that has stopped.
public final class ThreadExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    // `condition` guards `jobs`, `stopped` and `running`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false
    private var running = false
    private let name: String

    public init(name: String) { self.name = name }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        let start = !running
        running = true
        condition.signal()
        condition.unlock()
        if start { startThread() }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    /// Lets the thread end once no job is left (the owner is going away).
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func startThread() {
        // The thread keeps the executor until it ends.
        let thread = Thread { [self, name] in
            // Named by the thread itself (see BackgroundCheckpointer); the kernel keeps 15 bytes.
            try? name.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            run()
        }
        // As much as a pool thread has (the default 8 MiB): the owner's own logic runs here too (a
        // worker's transaction bodies decode and encode its rows and events).
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func run() {
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            // An untimed wait: no clock involved (libfaketime's jumps stall timed waits).
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty {
                running = false
                condition.unlock()
                return
            }
            swap(&batch, &jobs)
            condition.unlock()
            // As either kind: an actor's job runs isolated to it, a task's with its preference kept.
            for job in batch { job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
