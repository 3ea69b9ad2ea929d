import Foundation
import Synchronization

/// The thread a probe measures on (``DiskProbe``, ``CPUProbe``): `body` runs on a thread of its
/// own, measures while `isRunning()` and hands each sample to `record`; `stop()` ends it and
/// returns the samples in order.
final class ProbeThread<Sample: Sendable>: Sendable {
    private let running = Atomic<Bool>(true)
    private let samples = Mutex<[Sample]>([])
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable (_ isRunning: () -> Bool, _ record: (Sample) -> Void) -> Void) {
        Thread { [self] in
            defer { done.signal() }
            body({ running.load(ordering: .relaxed) }, { sample in samples.withLock { $0.append(sample) } })
        }.start()
    }

    /// What has been measured so far, in order.
    func peek() -> [Sample] { samples.withLock { $0 } }

    /// Stops the thread and returns what it measured, in order.
    func stop() -> [Sample] {
        running.store(false, ordering: .relaxed)
        done.wait()
        return samples.withLock { $0 }
    }
}
