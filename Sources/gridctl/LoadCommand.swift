import ArgumentParser
import Foundation
import GridConfiguration
import GridDistrict
import GridJSON
import GridLoad

/// `gridctl load`: a district's worth of reports, and with `--handle` its handlers too.
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Post a realistic mix of reports to grid-intake at a steady rate; with --handle, play the handlers and an operator too.",
        discussion: """
            The mix (seeded, so a run can be repeated): categories and grids of the district, 10 % urgent and 2 % emergency
            priority, 5 % reported twice by neighbours (the second merges), 2 % outside every grid (held for triage; with
            --handle an operator places half of them). With --handle each case follows a plan: half are closed, some are
            returned or reworked on the way, the rest stop at every stage; --emergency-after switches one community to
            emergency mode and back. Every request is retried with the same idempotency key while its service is down.
            Prints a summary (JSON) at the end; --script writes what became of each report, one JSON line each.
            Exit 1 if a report was refused or never accepted, or a plan could not be finished.
            """
    )

    @Option(help: "Reports per second.") var rate: Double = 10
    @Option(help: "How many reports (default: rate × duration).") var count: Int?
    @Option(help: "Seconds to run (default 60, unless --count is given).") var duration: Double?
    @Option(name: .customLong("intake"), help: "grid-intake's address (env GRIDBUS_INTAKE_URL).")
    var intakeURL = Environment.value("GRIDBUS_INTAKE_URL") ?? "http://127.0.0.1:8080"
    @Option(name: .customLong("intake-key"), help: "The intake API key (env GRIDBUS_INTAKE_KEY).")
    var intakeKey = Environment.value("GRIDBUS_INTAKE_KEY") ?? "dev-app-key"
    @Flag(help: "Play the handlers (acknowledge, start, handle, …) and an operator (place, emergency mode).") var handle = false
    @Option(name: .customLong("dispatcher"), help: "grid-dispatcher's address (env GRIDBUS_DISPATCHER_URL).")
    var dispatcherURL = Environment.value("GRIDBUS_DISPATCHER_URL") ?? "http://127.0.0.1:8081"
    @Option(name: .customLong("handler-key"), help: "A dispatcher API key with the handler scope (env GRIDBUS_DISPATCHER_KEY).")
    var handlerKey = Environment.value("GRIDBUS_DISPATCHER_KEY") ?? "dev-handler-key"
    @Option(name: .customLong("operator-key"), help: "A dispatcher API key with the operator scope (env GRIDBUS_DISPATCHER_OPERATOR_KEY).")
    var operatorKey = Environment.value("GRIDBUS_DISPATCHER_OPERATOR_KEY") ?? "dev-operator-key"
    @Option(name: .customLong("emergency-after"), help: "With --handle: seconds until one community switches to emergency mode.")
    var emergencyAfter: Double?
    @Option(name: .customLong("emergency-for"), help: "Seconds the community stays in emergency mode.") var emergencyFor: Double = 30
    @Option(name: .customLong("district-dir"), help: "The district the intake serves (env GRIDBUS_DISTRICT_DIR).")
    var districtDirectory = Environment.value("GRIDBUS_DISTRICT_DIR") ?? "deploy/sample"
    @Option(help: "Seed of the mix.") var seed: UInt64 = 2026
    @Option(help: "Parallel connections to the intake.") var connections = 4
    @Option(help: "With --handle: handlers acting at once (each a connection to the dispatcher).") var handlers = 8
    @Option(name: .customLong("retry-for"), help: "Seconds a report or an action is retried while its service is down.") var retryFor: Double = 120
    @Option(name: .customLong("drain-timeout"), help: "Seconds the handlers may take after the last report.") var drainTimeout: Double = 300
    @Option(help: "Write what became of each report here (JSON lines).") var script: String?

    func validate() throws {
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        if let count, count <= 0 { throw ValidationError("--count must be positive") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        guard connections > 0 else { throw ValidationError("--connections must be positive") }
        guard handlers > 0 else { throw ValidationError("--handlers must be positive") }
        if emergencyAfter != nil && !handle { throw ValidationError("--emergency-after needs --handle (the operator switches the mode)") }
    }

    func run() throws {
        let district: District
        do { district = try District.load(directory: districtDirectory) } catch { throw ValidationError("--district-dir: \(error)") }
        var settings = LoadSettings()
        settings.intakeURL = intakeURL
        settings.intakeKey = intakeKey
        settings.dispatcherURL = dispatcherURL
        settings.handlerKey = handlerKey
        settings.operatorKey = operatorKey
        settings.rate = rate
        settings.count = count
        settings.duration = duration
        settings.connections = connections
        settings.handle = handle
        settings.handlerThreads = handlers
        settings.emergencyAfter = emergencyAfter
        settings.emergencyFor = emergencyFor
        settings.seed = seed
        settings.retryFor = retryFor
        settings.drainTimeout = drainTimeout
        let terminal = isatty(STDERR_FILENO) == 1
        let run: LoadRun
        do {
            run = LoadRun(settings: settings, district: district) { snapshot in
                let line =
                    "posted \(snapshot.posted), accepted \(snapshot.accepted), actions \(snapshot.actions), cases in hand \(snapshot.unfinished)"
                FileHandleOutput.standardError(terminal ? "\r\u{1B}[K" + line : line + "\n")
            }
        }
        let result: LoadResult
        do { result = try run.run() } catch { throw ValidationError("\(error)") }
        if terminal { FileHandleOutput.standardError("\n") }
        if let script {
            let encoder = JSONTreeEncoder()
            var text = ""
            for record in result.records { text += String(decoding: try encoder.encode(record), as: UTF8.self) + "\n" }
            do { try text.write(toFile: script, atomically: true, encoding: .utf8) } catch {
                throw RuntimeFailure("cannot write \(script): \(error)")
            }
        }
        let summary: JSONValue = [
            "posted": .integer(Int64(result.posted)), "accepted": .integer(Int64(result.accepted)), "refused": .integer(Int64(result.refused)),
            "failed": .integer(Int64(result.failed)), "actions": .integer(Int64(result.actions)), "unfinished": .integer(Int64(result.unfinished)),
            "seconds": .number((result.elapsed * 10).rounded() / 10),
            "reportsPerSecond": .integer(Int64((Double(result.accepted) / max(result.elapsed, 0.001)).rounded())),
            "states": .object(result.states.mapValues { .integer(Int64($0)) }), "modeSwitches": .array(result.modeSwitches.map(JSONValue.string)),
        ]
        FileHandleOutput.standardOutput(String(decoding: try summary.jsonBytes(), as: UTF8.self) + "\n")
        for problem in result.problems.prefix(20) { FileHandleOutput.standardError("gridctl load: \(problem)\n") }
        if result.problems.count > 20 { FileHandleOutput.standardError("gridctl load: … and \(result.problems.count - 20) more\n") }
        if result.refused + result.failed + result.unfinished > 0 { throw ExitCode(1) }
    }
}
