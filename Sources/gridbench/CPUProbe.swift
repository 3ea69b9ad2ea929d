import Foundation
import GridDistrict
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A speed probe of the machine itself, every 250 ms in its own thread and timed in that thread's
/// CPU time (waiting for a core does not count): a fixed computation in a core's own cache
/// (*compute*), and a fixed walk of dependent reads at random places in 64 MiB, beyond the shared
/// L3 (*memory*; a neighbour on the host that fills the L3 or the memory bus slows this one
/// first). When the workers need more CPU for the same reports in one minute than in another,
/// the probe tells whether the machine itself was slower then, or their own work grew.
final class CPUProbe: Sendable {
    struct Run: Sendable {
        /// When the run began (`now()`, ns), and the CPU time of each part (ms).
        var start: UInt64
        var compute: Double
        var memory: Double
    }

    private let thread: ProbeThread<Run>
    /// Keeps the computations' results alive, so the optimiser cannot drop them.
    private static let sink = Atomic<UInt64>(0)

    /// - Parameter memoryBytes: the size of the memory walk's table.
    init(memoryBytes: Int = 64 << 20) {
        thread = ProbeThread { isRunning, record in
            // 256 KiB: more than a core's L1, less than its L2; about half a millisecond of work here.
            var buffer = [UInt64](repeating: 0x9E37_79B9_7F4A_7C15, count: 32_768)
            let cycle = Self.randomCycle(count: memoryBytes / MemoryLayout<UInt32>.stride)
            var position: UInt32 = 0
            while isRunning() {
                let start = now()
                let before = Self.threadCPUTime()
                let hash = Self.work(&buffer)
                let between = Self.threadCPUTime()
                position = Self.walk(cycle, from: position, steps: 8_192)
                let after = Self.threadCPUTime()
                Self.sink.store(hash &+ UInt64(position), ordering: .relaxed)
                record(Run(start: start, compute: Double(between - before) / 1e6, memory: Double(after - between) / 1e6))
                usleep(250_000)
            }
        }
    }

    /// What the probe has measured so far, in order.
    func peek() -> [Run] { thread.peek() }

    /// Stops the probe and returns what it measured, in order.
    func stop() -> [Run] { thread.stop() }

    /// The probe's computation: eight passes mixing every word of `buffer` into a running hash.
    static func work(_ buffer: inout [UInt64]) -> UInt64 {
        var hash: UInt64 = 0
        buffer.withUnsafeMutableBufferPointer { words in
            for _ in 0..<8 {
                for index in words.indices {
                    hash = (hash ^ words[index]) &* 0xFF51_AFD7_ED55_8CCD
                    hash ^= hash >> 33
                    words[index] = hash
                }
            }
        }
        return hash
    }

    /// `steps` reads, each at the place the one before named: no read can start before the one
    /// before it ends, so each costs a trip to memory once the table is beyond the caches.
    static func walk(_ cycle: [UInt32], from position: UInt32, steps: Int) -> UInt32 {
        cycle.withUnsafeBufferPointer { next in
            var position = position
            for _ in 0..<steps { position = next[Int(position)] }
            return position
        }
    }

    /// A permutation of `0..<count` that is one cycle (Sattolo's algorithm), so a walk never
    /// falls into a short loop that the caches would hold. SplitMix64, not the system's generator:
    /// a system call per number took 8 s for 64 MiB.
    static func randomCycle(count: Int) -> [UInt32] {
        var cycle = (0..<UInt32(count)).map { $0 }
        var random = SeededRandom(state: 2026)
        cycle.withUnsafeMutableBufferPointer { places in
            for index in stride(from: count - 1, to: 0, by: -1) {
                places.swapAt(index, Int(random.next() % UInt64(index)))
            }
        }
        return cycle
    }

    static func threadCPUTime() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The medians of `runs`' two parts (ms), 0 without any.
    static func medians(_ runs: [Run]) -> (compute: Double, memory: Double) {
        guard !runs.isEmpty else { return (0, 0) }
        return (runs.map(\.compute).sorted().quantile(0.5), runs.map(\.memory).sorted().quantile(0.5))
    }

    /// Each part's median over the same part's in `idle` (0 where either has no runs).
    static func ratios(_ runs: [Run], idle: (compute: Double, memory: Double)) -> (compute: Double, memory: Double) {
        let now = medians(runs)
        return (idle.compute > 0 ? now.compute / idle.compute : 0, idle.memory > 0 ? now.memory / idle.memory : 0)
    }

    /// `compute median 0.43 ms, memory median 1.10 ms (40 runs)`; with `idle`, each part's ratio to it.
    static func summary(_ runs: [Run], idle: (compute: Double, memory: Double)? = nil) -> String {
        guard !runs.isEmpty else { return "no runs" }
        let median = medians(runs)
        guard let idle else {
            return String(format: "compute median %.2f ms, memory median %.2f ms", median.compute, median.memory) + " (\(runs.count) runs)"
        }
        let ratio = ratios(runs, idle: idle)
        return String(
            format: "compute median %.2f ms, %.2f × idle; memory median %.2f ms, %.2f × idle",
            median.compute,
            ratio.compute,
            median.memory,
            ratio.memory
        ) + " (\(runs.count) runs)"
    }
}
