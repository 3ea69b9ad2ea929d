import Foundation
import GridBusTestSupport
import Testing

/// A program built on GridBusClient keeps its own signal handling: the libraries take no
/// process-wide action (only GridBus's own programs link the signal set-up, GridProgram).
@Suite(.timeLimit(.minutes(2)))
struct ExampleWorkerTests {
    /// A signal mask of /proc/PID/status: `SigCgt` (signals with a handler), `SigIgn` (ignored).
    static func signalMask(_ field: String, of pid: Int32) throws -> UInt64 {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix(field + ":") })
        return try #require(UInt64(line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces), radix: 16))
    }

    static func bit(_ signal: Int32) -> UInt64 { 1 << UInt64(signal - 1) }

    @Test func theExampleWorkerFollowsTheBusAndStopsOnItsOwnSignalHandling() async throws {
        let directory = try TemporaryFiles.makeDirectory("example")
        let (daemon, ready) = try await startDaemon(in: directory)
        defer { daemon.crash() }
        let worker = try Child(
            "gridbus-example-worker",
            [
                "--bus-ingress", ready["ingress"]!, "--bus-egress", ready["egress"]!, "--bus-replay", ready["replay"]!,
                "--store", directory + "/example.sqlite",
            ],
            in: directory
        )
        let bus = ["--ingress", ready["ingress"]!, "--egress", ready["egress"]!, "--replay", ready["replay"]!]
        for number in 1...3 {
            let data =
                #"{"schemaVersion":1,"incidentId":"inc-\#(number)","category":"E-01-02","description":"rubbish","priority":"normal","#
                + #""channel":"app","reportedAt":"2026-11-27T10:00:00Z","grid":"G-\#(number)"}"#
            let published = try await run(
                "gridctl",
                ["publish"] + bus + ["--type", "incident.reported", "--grid", "G-\(number)", "--id", "r-\(number)", "--data", data],
                in: directory
            )
            #expect(published.status == 0, "\(published.stderr)")
        }
        #expect(try await eventually(timeout: .seconds(30)) { worker.stderr.contains("reports=3") }, "\(worker.stderr)")

        // Nothing set up its signals before main: SIGHUP, which the program left alone, has its
        // default action; gridbusd, which links the programs' set-up, catches all three (the
        // contrast shows the check can tell).
        let signals = Self.bit(SIGINT) | Self.bit(SIGTERM) | Self.bit(SIGHUP)
        #expect(try Self.signalMask("SigCgt", of: worker.pid) & Self.bit(SIGHUP) == 0)
        #expect(try Self.signalMask("SigIgn", of: worker.pid) & Self.bit(SIGHUP) == 0)
        #expect(try Self.signalMask("SigCgt", of: daemon.pid) & signals == signals)

        // SIGTERM reaches the handler the program chose (swift-service-lifecycle's): a graceful stop.
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(20)) == 0)
        #expect(worker.stderr.contains("stopped gracefully"), "\(worker.stderr)")
    }
}
