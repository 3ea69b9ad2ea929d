import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An fsync probe on the disk the stores are on: a 4 KiB write and `fdatasync` every 10 ms,
/// each timed. Every hop of the pipeline waits for a synced commit (the intake's, the journal's,
/// the dispatcher's, the notifier's), so a stall of the disk stalls the pipeline; laid beside the
/// reports' latencies, the probe tells the disk's stalls from the pipeline's own.
final class DiskProbe: Sendable {
    struct Sync: Sendable {
        /// When the write began (`now()`, ns) and how long the write and sync took (ms).
        var start: UInt64
        var milliseconds: Double
    }

    private let thread: ProbeThread<Sync>

    init(path: String) {
        thread = ProbeThread { isRunning, record in
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { return }
            defer {
                close(fd)
                unlink(path)
            }
            let page = [UInt8](repeating: 0x2A, count: 4096)
            while isRunning() {
                let start = now()
                _ = page.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4096, 0) }
                fdatasync(fd)
                record(Sync(start: start, milliseconds: Double(now() - start) / 1e6))
                usleep(10_000)
            }
        }
    }

    /// Stops the probe and returns what it measured, in order.
    func stop() -> [Sync] { thread.stop() }

    /// `p50 0.3 ms, p99 2.2 ms, max 724 ms (9,134 syncs)`.
    static func summary(_ syncs: [Sync]) -> String {
        let sorted = syncs.map(\.milliseconds).sorted()
        guard !sorted.isEmpty else { return "no syncs" }
        return String(
            format: "p50 %.2f ms, p99 %.1f ms, max %.0f ms (%d syncs)",
            sorted.quantile(0.5),
            sorted.quantile(0.99),
            sorted.last!,
            sorted.count
        )
    }

    /// Whether a sync that took at least `minimum` ms was under way at some point in `from…to` (ns).
    static func stalled(_ syncs: [Sync], from: UInt64, to: UInt64, minimum: Double) -> Bool {
        syncs.contains { $0.milliseconds >= minimum && $0.start <= to && $0.start + UInt64($0.milliseconds * 1e6) >= from }
    }
}
