import Foundation
import GridBusClient
import GridBusTestSupport
import GridSchema
import GridStore
import Testing
import ZeroMQ

@testable import GridBusDaemon

/// The delivery contract end to end, over the real binaries and real sockets: 100,000 events
/// published through the worker runtime while the daemon and a durable subscriber are each
/// killed with `kill -9` and restarted midway.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct KillNineTests {
    @Test func nothingAckedIsLostAndTheSubscriberSeesEverything() async throws {
        let directory = try TemporaryFiles.makeDirectory("it")
        let count = Int(ProcessInfo.processInfo.environment["GRIDBUS_IT_EVENTS"] ?? "") ?? 100_000
        let ports = try (0..<3).map { _ in try freePort() }
        let ingress = "tcp://127.0.0.1:\(ports[0])"
        let egress = "tcp://127.0.0.1:\(ports[1])"
        let replay = "tcp://127.0.0.1:\(ports[2])"
        let daemonArguments = [
            "--data-dir", directory + "/bus", "--security-mode", "none", "--bus-ingress", ingress, "--bus-egress", egress,
            "--bus-replay", replay, "--http-port", "0", "--log-level", "warning",
        ]
        let subscriberArguments = [
            "subscribe", "--egress", egress, "--replay", replay, "--store", directory + "/subscriber.sqlite", "--expect", "\(count)",
        ]

        var daemon = try Child("gridbusd", daemonArguments, in: directory)
        _ = try await readyFile(directory + "/bus/gridbusd.ready")
        var subscriber = try Child("gridbus-probe", subscriberArguments, in: directory)
        let publisher = try Child(
            "gridbus-probe",
            ["publish", "--ingress", ingress, "--store", directory + "/publisher.sqlite", "--count", "\(count)"],
            in: directory
        )

        // Midway: kill -9 both the daemon and the subscriber, then start them again.
        let requester = BusRequester(context: ZMQContext(), endpoint: replay)
        while (try? await requester.ping(timeout: .seconds(2))) ?? 0 < UInt64(count / 3) {
            try await Task.sleep(for: .milliseconds(20))
            #expect(publisher.process.isRunning, "publisher ended early: \(publisher.stderr)")
        }
        await requester.close()
        daemon.crash()
        subscriber.crash()
        daemon = try Child("gridbusd", daemonArguments, in: directory)
        subscriber = try Child("gridbus-probe", subscriberArguments, in: directory)

        #expect(await publisher.wait(timeout: .seconds(180)) == 0, "publisher: \(publisher.stderr)")
        #expect(await subscriber.wait(timeout: .seconds(180)) == 0, "subscriber: \(subscriber.stderr)")
        daemon.signal(SIGTERM)
        #expect(await daemon.wait(timeout: .seconds(20)) == 0, "daemon: \(daemon.stderr)")

        // Every event is in the journal exactly once, with contiguous sequences.
        let journal = try SQLiteJournalReader(path: directory + "/bus/journal.sqlite")
            .read(after: 0, prefixes: [[]], limit: count + 1, scanLimit: count + 1).entries
        #expect(journal.map(\.sequence) == Array(1...UInt64(count)))
        let journaled = try journal.map { entry in
            let event = try CloudEvent.decode(entry.event)
            return (key: "\(event.source) \(event.id)", id: event.id, sequence: Int64(entry.sequence))
        }
        #expect(Set(journaled.map(\.key)).count == count)
        // The publisher's outbox is empty: every event was ACKed.
        let outbox = try SQLiteConnection(path: directory + "/publisher.sqlite", readOnly: true)
        #expect(try outbox.scalar("SELECT COUNT(*) FROM gridbus_outbox") == 0)
        // The subscriber, killed and restarted too, handled exactly the set that was published,
        // each under the sequence the journal gave it.
        let sequenceOf = Dictionary(journaled.map { ($0.id, $0.sequence) }, uniquingKeysWith: { first, _ in first })
        let seenStore = try SQLiteConnection(path: directory + "/subscriber.sqlite", readOnly: true)
        let seen = try seenStore.prepare("SELECT id, sequence FROM seen")
        var handled = 0
        var wrong: [String] = []
        while try seen.step() {
            handled += 1
            let id = seen.text(0) ?? ""
            if sequenceOf[id] != seen.int64(1) { wrong.append(id) }
        }
        #expect(handled == count)
        #expect(wrong.isEmpty, "handled under another sequence, or never journaled: \(wrong.prefix(5))")
        try? FileManager.default.removeItem(atPath: directory)
    }
}
