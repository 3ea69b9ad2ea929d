import Foundation
import GridDistrict
import GridJSON
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where the load goes and how hard.
public struct LoadSettings: Sendable {
    public var intakeURL = "http://127.0.0.1:8080"
    public var intakeKey: String? = "dev-app-key"
    public var dispatcherURL = "http://127.0.0.1:8081"
    public var handlerKey: String? = "dev-handler-key"
    public var operatorKey: String? = "dev-operator-key"
    /// Reports per second offered (paced on a fixed schedule).
    public var rate = 10.0
    public var count: Int?
    public var duration: Double?
    public var connections = 4
    /// Play the handlers' side: drive every case through its plan.
    public var handle = false
    public var handlerThreads = 8
    /// Switch one community to emergency mode this many seconds in, and back after `emergencyFor`.
    public var emergencyAfter: Double?
    public var emergencyFor = 30.0
    public var seed: UInt64 = 2026
    /// How long a report or an action is retried while its service is down (kill -9, restart).
    public var retryFor = 120.0
    /// After the last report, how long the handlers may take to finish their plans.
    public var drainTimeout = 300.0

    public init() {}
}

/// What became of one report: the line `--script` writes, what the fault suite checks.
public struct ScriptRecord: Sendable, Encodable {
    public let index: Int
    public let id: String
    public let category: String
    public let priority: String
    public var plan: String
    /// The state the run drove the case to (nil if the plan could not be finished).
    public var expect: String?
    public var duplicateOf: String?
    public var grid: String?
    public var problem: String?
}

/// Counts as the run goes, and the records at the end.
public struct LoadResult: Sendable {
    public var posted = 0
    public var accepted = 0
    /// Answered 4xx: a report the intake refused (a defect of the mix, or of the intake).
    public var refused = 0
    /// Never accepted within `retryFor`.
    public var failed = 0
    public var actions = 0
    public var unfinished = 0
    public var elapsed = 0.0
    public var problems: [String] = []
    /// The emergency drill's switches, as done.
    public var modeSwitches: [String] = []
    public var records: [ScriptRecord] = []

    public var states: [String: Int] { Dictionary(records.map { ($0.expect ?? "unfinished", 1) }, uniquingKeysWith: +) }
}

/// `gridctl load`: posts a seeded mix of reports to grid-intake at a fixed rate and, with `handle`,
/// plays the handlers and an operator at grid-dispatcher so that each case moves through its plan.
/// Blocking I/O on threads of its own; every request is retried with the same idempotency key
/// while its service is down, so a kill -9 anywhere neither loses nor doubles a report or a step.
public final class LoadRun: Sendable {
    let settings: LoadSettings
    let district: District
    let mix: Mutex<ReportMix>
    let state = Mutex(RunState())
    let progress: (@Sendable (LoadResult) -> Void)?

    struct RunState {
        var result = LoadResult()
        var nextIndex = 0
        /// Reports this run posts: a duplicate the mix planned past the last one is never posted.
        var total = 0
        var ids: [Int: String] = [:]
        var records: [Int: ScriptRecord] = [:]
        /// Cases waiting for the handlers, and when to look at each again.
        var work: [(due: UInt64, item: WorkItem)] = []
        var settled: Set<Int> = []
        /// Originals that reached the dispatcher after their duplicate (a publish retried after a
        /// NACK can be journaled after a later one): the duplicate is the case, the original merged
        /// into it. Original's index → the duplicate's id.
        var swapped: [Int: String] = [:]
        var failedIndexes: Set<Int> = []
        var postingDone = false
        /// A report went unanswered for `retryFor`: the intake is down for good, post no more.
        var abandoned = false
        var busyDrivers = 0
    }

    struct WorkItem: Sendable {
        let report: PlannedReport
        let id: String
        /// The case driven: the report's own, or its duplicate's when the duplicate came first.
        var target: String
        var step = 0
        var assignees: [String] = []
        var firstSeen: UInt64
        /// Looks that found the case not ready yet: each waits twice as long (up to 2 s), so that
        /// cases still on their way through the bus do not crowd out the ones ready to act on.
        var waits = 0
    }

    public init(settings: LoadSettings, district: District, progress: (@Sendable (LoadResult) -> Void)? = nil) {
        self.settings = settings
        self.district = district
        mix = Mutex(ReportMix(district: district, seed: settings.seed))
        self.progress = progress
    }

    public func run() throws -> LoadResult {
        _ = try HTTPConnection(url: settings.intakeURL, bearer: nil)  // a bad address fails here, not in a thread
        _ = try HTTPConnection(url: settings.dispatcherURL, bearer: nil)
        let started = Self.now()
        let total = settings.count ?? Int(((settings.duration ?? 60) * settings.rate).rounded())
        state.withLock { $0.total = total }
        var threads = (0..<settings.connections).map { n in spawn("poster-\(n)") { self.post(total: total, started: started) } }
        let drivers = settings.handle ? (0..<settings.handlerThreads).map { n in spawn("handler-\(n)") { self.drive() } } : []
        if settings.handle, let after = settings.emergencyAfter { threads.append(spawn("mode") { self.switchMode(after: after, started: started) }) }
        let reporter = spawn("progress") { self.report(until: { self.state.withLock { $0.postingDone && $0.work.isEmpty && $0.busyDrivers == 0 } }) }
        for thread in threads { thread.join() }
        state.withLock { $0.postingDone = true }
        for driver in drivers { driver.join() }
        reporter.join()
        return state.withLock { state in
            var result = state.result
            result.elapsed = Double(Self.now() - started) / 1e9
            // Whatever is still waiting did not finish in time.
            for (_, item) in state.work {
                state.records[item.report.index]?.problem = "still at step \(item.step) when the run ended"
                state.records[item.report.index]?.expect = nil
            }
            result.records = state.records.keys.sorted().map { state.records[$0]! }
            result.unfinished = result.records.filter { $0.expect == nil }.count
            return result
        }
    }

    // MARK: Posting

    private func post(total: Int, started: UInt64) {
        guard let intake = try? HTTPConnection(url: settings.intakeURL, bearer: settings.intakeKey) else { return }
        let interval = 1e9 / settings.rate
        while true {
            // Take the next report under the lock, so that indexes and the mix stay in step.
            guard
                let report: PlannedReport = state.withLock({ state in
                    guard state.nextIndex < total, !state.abandoned else { return nil }
                    state.nextIndex += 1
                    return mix.withLock { $0.next() }
                })
            else { return }
            let due = started + UInt64(Double(report.index) * interval)
            while case let current = Self.now(), due > current { usleep(UInt32(min(Double(due - current) / 1000, 1e6))) }
            if case .duplicate(let original) = report.expectation {
                // Posted after its original is accepted, never before.
                while state.withLock({ $0.ids[original] == nil && !$0.gaveUp(original) }) { usleep(5_000) }
            }
            let key = "load-\(settings.seed)-\(report.index)"
            let deadline = Self.now() + UInt64(settings.retryFor * 1e9)
            var outcome: Result<String, Refusal>?
            while outcome == nil {
                do {
                    let answer = try intake.send("POST", "/v1/incidents", json: report.body, idempotencyKey: key)
                    if let id = answer.createdID {
                        outcome = .success(id)
                    } else if (400..<500).contains(answer.status) && answer.status != 429 {
                        outcome = .failure(
                            Refusal(
                                refused: true,
                                text:
                                    "report \(report.index) refused with \(answer.status): \(String(decoding: answer.body.prefix(300), as: UTF8.self))"
                            )
                        )
                    }
                } catch {}
                if outcome == nil {
                    if Self.now() > deadline {
                        outcome = .failure(Refusal(refused: false, text: "report \(report.index) not accepted in \(Int(settings.retryFor)) s"))
                    } else {
                        usleep(200_000)
                    }
                }
            }
            state.withLock { state in
                state.result.posted += 1
                switch outcome! {
                case .success(let id):
                    state.result.accepted += 1
                    state.ids[report.index] = id
                    state.records[report.index] = record(report, id: id, ids: state.ids)
                    if settings.handle { state.work.append((Self.now(), WorkItem(report: report, id: id, target: id, firstSeen: Self.now()))) }
                case .failure(let problem):
                    if problem.refused {
                        state.result.refused += 1
                    } else {
                        state.result.failed += 1
                        state.abandoned = true
                    }
                    state.result.problems.append(problem.text)
                    state.failedIndexes.insert(report.index)
                }
            }
        }
    }

    private func record(_ report: PlannedReport, id: String, ids: [Int: String]) -> ScriptRecord {
        switch report.expectation {
        case .driven(let plan):
            return ScriptRecord(
                index: report.index,
                id: id,
                category: report.category,
                priority: report.priority,
                plan: plan.rawValue,
                expect: settings.handle ? plan.finalState : "dispatched"
            )
        case .duplicate(let original):
            return ScriptRecord(
                index: report.index,
                id: id,
                category: report.category,
                priority: report.priority,
                plan: "duplicate",
                expect: "merged",
                duplicateOf: ids[original]
            )
        case .outside(let grid):
            let placed = settings.handle ? grid : nil
            return ScriptRecord(
                index: report.index,
                id: id,
                category: report.category,
                priority: report.priority,
                plan: placed == nil ? "outside" : "placed",
                expect: placed == nil ? "reported" : "dispatched",
                grid: placed
            )
        }
    }
}

/// A report the intake refused (4xx), or never answered in time.
struct Refusal: Error {
    let refused: Bool
    let text: String
}

extension LoadRun.RunState {
    func gaveUp(_ index: Int) -> Bool { failedIndexes.contains(index) }
}
