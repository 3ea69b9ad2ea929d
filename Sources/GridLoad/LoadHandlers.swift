import Foundation
import GridDistrict
import GridJSON
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The handlers' and the operator's side of a load run (grid-dispatcher's HTTP API).
extension LoadRun {
    enum Step {
        case done(state: String)
        /// The duplicate became the case; its original must merge into it.
        case swapped
        case later(milliseconds: UInt64)
        case failed(String)
    }

    func drive() {
        guard let handler = try? HTTPConnection(url: settings.dispatcherURL, bearer: settings.handlerKey),
            let operatorConnection = try? HTTPConnection(url: settings.dispatcherURL, bearer: settings.operatorKey)
        else { return }
        while true {
            let taken: WorkItem? = state.withLock { state in
                let current = Self.now()
                guard let position = state.work.firstIndex(where: { $0.due <= current }) else { return nil }
                state.busyDrivers += 1
                return state.work.remove(at: position).item
            }
            guard var item = taken else {
                if state.withLock({ $0.postingDone && $0.work.isEmpty && $0.busyDrivers == 0 }) { return }
                usleep(10_000)
                continue
            }
            let outcome = advance(&item, handler: handler, operator: operatorConnection)
            let deadline = item.firstSeen + UInt64((settings.retryFor + settings.drainTimeout) * 1e9)
            state.withLock { state in
                state.busyDrivers -= 1
                switch outcome {
                case .done(let reached):
                    state.settled.insert(item.report.index)
                    // The record of the report whose case was driven (the duplicate's, after a swap).
                    let index = item.target == item.id ? item.report.index : item.report.duplicateIndex ?? item.report.index
                    let expected = state.records[index]?.expect
                    if expected != reached {
                        state.records[index]?.problem = "expected \(expected ?? "?"), reached \(reached)"
                        state.records[index]?.expect = nil
                        state.result.problems.append("case \(item.id) (report \(item.report.index)): expected \(expected ?? "?"), reached \(reached)")
                    }
                case .swapped:
                    guard case .duplicate(let original) = item.report.expectation else { break }
                    let duplicate = item.report.index
                    state.settled.insert(duplicate)
                    state.swapped[original] = item.id
                    let originalRecord = state.records[original]
                    state.records[duplicate]?.plan = originalRecord?.plan ?? "?"
                    state.records[duplicate]?.expect = originalRecord?.expect
                    state.records[duplicate]?.duplicateOf = nil
                    state.records[original]?.plan = "duplicate"
                    state.records[original]?.expect = "merged"
                    state.records[original]?.duplicateOf = item.id
                case .later(let milliseconds) where Self.now() < deadline:
                    item.waits += 1
                    let backOff = min(milliseconds << min(item.waits - 1, 6), 2000)
                    state.work.append((Self.now() + backOff * 1_000_000, item))
                case .later:
                    state.records[item.report.index]?.expect = nil
                    state.records[item.report.index]?.problem = "gave up at step \(item.step)"
                    state.result.problems.append("case \(item.id) (report \(item.report.index)): gave up at step \(item.step)")
                case .failed(let problem):
                    state.records[item.report.index]?.expect = nil
                    state.records[item.report.index]?.problem = problem
                    state.result.problems.append("case \(item.id) (report \(item.report.index)): \(problem)")
                }
            }
        }
    }

    /// As far as the case can go now. Transport failures and 5xx answers come back as `later`, and
    /// the same step is sent again with the same idempotency key.
    func advance(_ item: inout WorkItem, handler: HTTPConnection, operator operatorConnection: HTTPConnection) -> Step {
        let path = "/v1/cases/\(item.target)"
        func current() -> (state: String, assignees: [String])?? {
            guard let answer = try? handler.send("GET", path) else { return nil }
            if answer.status == 404 { return .some(nil) }  // not registered yet
            guard answer.status == 200, let body = answer.json, let state = body["state"]?.stringValue else { return nil }
            return .some((state, body["assignees"]?.arrayValue?.compactMap(\.stringValue) ?? []))
        }
        switch item.report.expectation {
        case .duplicate:
            guard let seen = current(), let (state, _) = seen, state != "registered" else { return .later(milliseconds: 50) }
            if state == "reported" { return .failed("the duplicate is held for triage: outside every grid") }
            return state == "merged" ? .done(state: state) : .swapped
        case .outside(let grid):
            guard let seen = current(), let (state, _) = seen else { return .later(milliseconds: 50) }
            guard let grid, state == "reported" else { return .done(state: state) }
            let body: JSONValue = ["by": "load-operator", "grid": .string(grid)]
            guard
                let answer = try? operatorConnection.send(
                    "POST",
                    path + "/place",
                    json: body,
                    idempotencyKey: "load-\(settings.seed)-\(item.report.index)-place"
                )
            else { return .later(milliseconds: 200) }
            if answer.status >= 500 { return .later(milliseconds: 200) }
            guard answer.status == 200, let state = answer.json?["state"]?.stringValue else { return .failed("place answered \(answer.status)") }
            countAction()
            return .done(state: state)
        case .driven(let plan):
            if let duplicate = item.report.duplicateIndex,
                !state.withLock({ $0.settled.contains(duplicate) || $0.failedIndexes.contains(duplicate) || duplicate >= $0.total })
            {
                return .later(milliseconds: 50)
            }
            if item.target == item.id, let caseID = state.withLock({ $0.swapped[item.report.index] }) {
                // This report merged into its duplicate: confirm it, then drive the duplicate's case.
                guard let seen = current(), let (state, _) = seen else { return .later(milliseconds: 50) }
                if state == "registered" || state == "reported" { return .later(milliseconds: 50) }
                guard state == "merged" else { return .failed("neither this report nor its duplicate merged (both \(state))") }
                item.target = caseID
                return .later(milliseconds: 0)
            }
            if item.assignees.isEmpty {
                guard let seen = current(), let (state, assignees) = seen, state != "registered", state != "reported" else {
                    return .later(milliseconds: 50)
                }
                item.assignees = assignees
                item.waits = 0
                if plan.actions.isEmpty { return .done(state: state) }
            }
            var reached = "dispatched"
            while item.step < plan.actions.count {
                let action = plan.actions[item.step]
                guard let member = item.assignees.first else { return .failed("no assignee before \(action)") }
                let key = "load-\(settings.seed)-\(item.report.index)-\(item.step)"
                guard let answer = try? handler.send("POST", "\(path)/\(action)", json: CasePlan.body(for: action, by: member), idempotencyKey: key)
                else {
                    return .later(milliseconds: 200)
                }
                if answer.status >= 500 || answer.status == 429 { return .later(milliseconds: 200) }
                guard answer.status == 200, let body = answer.json, let state = body["state"]?.stringValue else {
                    return .failed("\(action) answered \(answer.status): \(String(decoding: answer.body.prefix(300), as: UTF8.self))")
                }
                countAction()
                reached = state
                item.assignees = body["assignees"]?.arrayValue?.compactMap(\.stringValue) ?? item.assignees
                item.step += 1
                item.waits = 0
            }
            return .done(state: reached)
        }
    }

    private func countAction() { state.withLock { $0.result.actions += 1 } }

    /// The emergency drill: one community (chosen by the seed) to emergency mode and back.
    func switchMode(after: Double, started: UInt64) {
        guard let connection = try? HTTPConnection(url: settings.dispatcherURL, bearer: settings.operatorKey) else { return }
        var random = SeededRandom(state: settings.seed ^ 0xE3E7)
        let community = random.pick(Array(Set(district.grids.map(\.community))).sorted())
        for (mode, at) in [("emergency", after), ("normal", after + settings.emergencyFor)] {
            while Self.now() < started + UInt64(at * 1e9) {
                if state.withLock({ $0.postingDone }) { return }
                usleep(100_000)
            }
            let body: JSONValue = [
                "scope": "community", "target": .string(community), "mode": .string(mode), "by": "load-operator", "reason": "load generator drill",
            ]
            let deadline = Self.now() + UInt64(settings.retryFor * 1e9)
            while Self.now() < deadline {
                if let answer = try? connection.send("POST", "/v1/modes", json: body), answer.status == 200 { break }
                usleep(200_000)
            }
            state.withLock { $0.result.modeSwitches.append("\(mode) \(community)") }
        }
    }

    /// A progress line a second while the run lasts.
    func report(until finished: () -> Bool) {
        var last = Self.now()
        while !finished() {
            usleep(50_000)
            if Self.now() - last >= 1_000_000_000 {
                last = Self.now()
                progress?(
                    state.withLock { state in
                        var snapshot = state.result
                        snapshot.unfinished = state.work.count + state.busyDrivers
                        return snapshot
                    }
                )
            }
        }
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

/// A named thread that can be joined.
final class JoinableThread: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [finished] in
            try? name.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)  // see BackgroundCheckpointer
            body()
            finished.signal()
        }
        thread.start()
    }

    func join() { finished.wait() }
}

func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) -> JoinableThread { JoinableThread(name: name, body) }
