import Foundation
import GridStore
import Testing

/// An actor on a ``ThreadExecutor`` runs on that thread, one job at a time in order, and still
/// runs jobs that arrive after a shutdown; a task that prefers it runs there, actor calls included.
@Suite struct ThreadExecutorTests {
    actor Recorder {
        let executor: ThreadExecutor
        nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
        var seen: [Int] = []

        init(executor: ThreadExecutor) { self.executor = executor }

        func record(_ number: Int) -> String {
            seen.append(number)
            return ThreadExecutorTests.threadName()
        }
    }

    static func threadName() -> String {
        ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines)
    }

    @Test func jobsRunOnTheExecutorsThreadInOrder() async throws {
        let recorder = Recorder(executor: ThreadExecutor(name: "test-executor"))
        for number in 0..<1_000 {
            #expect(await recorder.record(number) == "test-executor")
        }
        #expect(await recorder.seen == Array(0..<1_000))
    }

    @Test func aTaskThatPrefersItRunsThereAndCallsTheActorWithoutLeaving() async throws {
        let executor = ThreadExecutor(name: "test-prefer")
        let recorder = Recorder(executor: executor)
        let threads = await withTaskExecutorPreference(executor) {
            var threads = [Self.threadName()]
            for number in 0..<100 {
                threads.append(await recorder.record(number))
                threads.append(Self.threadName())  // back in the task's own (nonisolated) code
            }
            await Task.yield()
            threads.append(Self.threadName())
            return threads
        }
        #expect(threads.count == 202 && threads.allSatisfy { $0 == "test-prefer" })
        // Without the preference the same code runs on the pool.
        #expect(Self.threadName() != "test-prefer")
        #expect(await recorder.seen == Array(0..<100))
        executor.shutdown()
    }

    @Test func aJobAfterAShutdownStillRuns() async throws {
        let executor = ThreadExecutor(name: "test-restart")
        let recorder = Recorder(executor: executor)
        #expect(await recorder.record(1) == "test-restart")
        executor.shutdown()
        // The thread ends once idle; the next job starts it again.
        #expect(await recorder.record(2) == "test-restart")
        #expect(await recorder.seen == [1, 2])
    }
}
