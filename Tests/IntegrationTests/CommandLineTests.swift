import Foundation
import GridBusTestSupport
import Testing

/// What an operator meets first: help, exit codes, clear errors, clean shutdown.
@Suite(.timeLimit(.minutes(2)))
struct CommandLineTests {
    @Test func helpListsEveryOptionAndExitsZero() async throws {
        let directory = try TemporaryFiles.makeDirectory("it")
        let result = try await run("gridbusd", ["--help"], in: directory)
        #expect(result.status == 0)
        for text in ["--config FILE", "--bus-ingress", "GRIDBUS_JOURNAL_DURABILITY", "tcp://127.0.0.1:7600", "EXIT CODES"] {
            #expect(result.stdout.contains(text), "\(text)")
        }
        let gridctl = try await run("gridctl", ["--help"], in: directory)
        #expect(gridctl.status == 0)
        #expect(gridctl.stdout.contains("publish") && gridctl.stdout.contains("tail") && gridctl.stdout.contains("status"))
    }

    @Test func badConfigurationExitsTwoNamingFileKeyAndReason() async throws {
        let directory = try TemporaryFiles.makeDirectory("it")
        let file = directory + "/gridbusd.yaml"
        try "journal:\n  durability: sometimes\n".write(toFile: file, atomically: true, encoding: .utf8)
        let result = try await run("gridbusd", ["--config", file], in: directory)
        #expect(result.status == 2)
        #expect(result.stderr.contains("journal.durability") && result.stderr.contains("sometimes") && result.stderr.contains(file))
        let unknown = try await run("gridbusd", ["--jurnal-path", "x"], in: directory)
        #expect(unknown.status == 2 && unknown.stderr.contains("--jurnal-path"))
        let badUsage = try await run("gridctl", ["publish", "--type", "incident.reported", "--data", "[1]"], in: directory)
        #expect(badUsage.status == 2 && badUsage.stderr.contains("JSON object"))
    }

    /// One scheme for environment variables: a name from before it is refused with its new name,
    /// rather than ignored (a deployment would otherwise run on the defaults without a word).
    @Test func aRenamedEnvironmentVariableIsRefusedWithItsNewName() async throws {
        let directory = try TemporaryFiles.makeDirectory("it")
        let daemon = try await run(
            "gridbusd",
            ["--data-dir", directory],
            in: directory,
            environment: ["GRIDBUS_INGRESS_ENDPOINT": "tcp://127.0.0.1:1"]
        )
        #expect(daemon.status == 2)
        #expect(daemon.stderr.contains("GRIDBUS_INGRESS_ENDPOINT") && daemon.stderr.contains("GRIDBUS_BUS_INGRESS"), "\(daemon.stderr)")
        let gridctl = try await run("gridctl", ["status"], in: directory, environment: ["GRIDBUS_HANDLER_KEY": "k"])
        #expect(gridctl.status == 2)
        #expect(gridctl.stderr.contains("GRIDBUS_HANDLER_KEY was renamed GRIDBUS_DISPATCHER_KEY"), "\(gridctl.stderr)")
    }

    @Test func anUnreachableDaemonIsAClearErrorNotAHang() async throws {
        let directory = try TemporaryFiles.makeDirectory("it")
        let port = try freePort()
        let started = ContinuousClock.now
        let status = try await run("gridctl", ["status", "--replay", "tcp://127.0.0.1:\(port)", "--timeout", "1"], in: directory)
        #expect(status.status == 1)
        #expect(status.stderr.contains("no answer") && status.stderr.contains("\(port)"))
        let publish = try await run(
            "gridctl",
            ["publish", "--ingress", "tcp://127.0.0.1:\(port)", "--timeout", "1", "--type", "incident.reported"],
            in: directory
        )
        #expect(publish.status == 1)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    /// The daemons' signal set-up (blocked, waited for on one thread) must not make tools deaf to Ctrl-C.
    @Test func ctrlCEndsAWaitingGridctlTail() async throws {
        let directory = try TemporaryFiles.makeDirectory("it")
        let port = try freePort()
        let tail = try Child("gridctl", ["tail", "--egress", "tcp://127.0.0.1:\(port)", "--replay", "tcp://127.0.0.1:\(port)"], in: directory)
        try await Task.sleep(for: .milliseconds(300))  // let it start waiting for the (absent) daemon
        tail.signal(SIGINT)
        #expect(await tail.wait(timeout: .seconds(10)) != nil, "gridctl tail ignored SIGINT")
    }

    @Test func aPortInUseIsARuntimeFailure() async throws {
        let directory = try TemporaryFiles.makeDirectory("it")
        let (first, ready) = try await startDaemon(in: directory, name: "a")
        let second = try await run(
            "gridbusd",
            [
                "--data-dir", directory + "/b", "--security-mode", "none", "--http-port", "0", "--bus-ingress", ready["ingress"]!,
                "--bus-egress", "tcp://127.0.0.1:*", "--bus-replay", "tcp://127.0.0.1:*",
            ],
            in: directory
        )
        #expect(second.status == 1)
        #expect(second.stderr.contains("Address already in use"))
        first.signal(SIGTERM)
        #expect(await first.wait(timeout: .seconds(20)) == 0)
    }

    /// SIGTERM drains, flushes and exits 0; gridctl publish, replay and tail work against the real daemon.
    @Test func publishTailReplayAndStatusAgainstTheRealDaemon() async throws {
        let directory = try TemporaryFiles.makeDirectory("it")
        let (daemon, ready) = try await startDaemon(in: directory)
        let bus = ["--ingress", ready["ingress"]!, "--egress", ready["egress"]!, "--replay", ready["replay"]!]
        let tail = try Child("gridctl", ["tail"] + bus + ["--from", "1", "--count", "3", "incident."], in: directory)
        var sequences: [String] = []
        for grid in ["G-1", "G-2", "G-3"] {
            let published = try await run(
                "gridctl",
                ["publish"] + bus + [
                    "--type", "incident.reported", "--grid", grid, "--id", "cli-\(grid)",
                    "--data", #"{"schemaVersion":1}"#,
                ],
                in: directory
            )
            #expect(published.status == 0, "\(published.stderr)")
            sequences.append(published.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(sequences == ["1", "2", "3"])
        let again = try await run("gridctl", ["publish"] + bus + ["--type", "incident.reported", "--grid", "G-1", "--id", "cli-G-1"], in: directory)
        #expect(again.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1")  // idempotent by (source, id)
        #expect(await tail.wait(timeout: .seconds(20)) == 0)
        let lines = tail.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
        let replayed = try await run("gridctl", ["replay"] + bus + ["incident.reported/G-2"], in: directory)
        #expect(replayed.status == 0 && replayed.stdout.contains("cli-G-2") && !replayed.stdout.contains("cli-G-1"))
        let status = try await run("gridctl", ["status", "--json"] + bus, in: directory)
        #expect(status.status == 0 && status.stdout.contains(#""head":3"#))
        daemon.signal(SIGTERM)
        #expect(await daemon.wait(timeout: .seconds(20)) == 0)
        #expect(daemon.stderr.contains("signal received") && daemon.stderr.contains("bus stopped"))
    }
}
