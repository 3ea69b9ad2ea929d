import Dispatch
import Foundation
import GridBusClient
import GridBusTestSupport
import GridStore
import Testing

/// A worker store's SQLite calls (and their fsyncs) block its own thread, not the concurrency
/// pool's, which has one thread per core and serves everything else in the process.
@Suite struct WorkerStoreThreadTests {
    @Test func storesBlockedAtOnceLeaveThePoolFree() async throws {
        // As many stores as the pool has threads, each blocked inside a call until a task on the
        // pool releases it: on the pool's own threads they would leave no thread for that task.
        let count = ProcessInfo.processInfo.activeProcessorCount
        let stores = try (0..<count).map { _ in try WorkerStore(path: TemporaryFiles.store("thread")) }
        let release = DispatchSemaphore(value: 0)
        let entered = AsyncStream<Void>.makeStream()
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for store in stores {
                group.addTask {
                    try await store.read { _ in
                        entered.continuation.yield()
                        // A guard against a hang, not a timing: the pool task below releases it at once.
                        return release.wait(timeout: .now() + 30) == .success
                    }
                }
            }
            var inside = 0
            for await _ in entered.stream {
                inside += 1
                if inside == count { break }
            }
            group.addTask {
                for _ in 0..<count { release.signal() }
                return true
            }
            for try await released in group { #expect(released) }
        }
    }
}
