import GridJSON
import GridStore
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Group commit, the way into a ``WorkerStore`` for writes: writes that arrive while one
/// transaction is being committed are committed together in the next one, so a burst of requests
/// costs one fsync, not one each.
///
/// Each caller's body runs inside its own savepoint: a body that throws rolls back only its own
/// changes and fails only its own caller. Callers resume after the commit that holds their
/// changes — never before their data is on disk, unless every caller in the commit said that its
/// changes may wait for a later sync (`durable: false`, see ``WorkerStore``).
final class GroupCommitter: Sendable {
    private struct Job: Sendable {
        /// Runs the body in a savepoint; returns how to resume its caller once the transaction
        /// commits. Throws when the savepoint cannot be made or rolled back: the transaction fails.
        let run: @Sendable (any StoreConnection, OutboxWriter) throws -> @Sendable () -> Void
        /// Resumes the caller with an error when the whole transaction fails.
        let fail: @Sendable (any Error) -> Void
        let durable: Bool
    }

    private let state = Mutex<(pending: [Job], committing: Bool)>(([], false))
    private let maxBatch: Int

    init(maxBatch: Int = 500) {
        self.maxBatch = maxBatch
    }

    func commit<T: Sendable>(
        on store: WorkerStore,
        durable: Bool,
        _ body: @escaping @Sendable (any StoreConnection, OutboxWriter) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { connection, outbox in
                    switch try connection.savepoint("job", { try body(connection, outbox) }) {
                    case .success(let value): { continuation.resume(returning: value) }
                    case .failure(let error): { continuation.resume(throwing: error) }
                    }
                },
                fail: { continuation.resume(throwing: $0) },
                durable: durable
            )
            let startDrain = state.withLock { state -> Bool in
                state.pending.append(job)
                guard !state.committing else { return false }
                state.committing = true
                return true
            }
            if startDrain { Task(executorPreference: store.taskExecutor) { await self.drain(store) } }
        }
    }

    private func drain(_ store: WorkerStore) async {
        while true {
            let jobs = state.withLock { state -> [Job] in
                let taken = Array(state.pending.prefix(maxBatch))
                state.pending.removeFirst(taken.count)
                if taken.isEmpty { state.committing = false }
                return taken
            }
            guard !jobs.isEmpty else { return }
            do {
                let durable = jobs.contains { $0.durable }
                let now = Date().millisecondsSince1970
                let resumes = try await store.transaction(nowMilliseconds: now, durable: durable) { connection, outbox in
                    try jobs.map { try $0.run(connection, outbox) }
                }
                for resume in resumes { resume() }
            } catch {
                for job in jobs { job.fail(error) }
            }
        }
    }
}
