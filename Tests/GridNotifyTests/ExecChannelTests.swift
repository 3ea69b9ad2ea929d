import Foundation
import GridBusTestSupport
import GridConfiguration
import GridNotify
import Logging
import Testing

/// Channel plugins run for real: shell scripts that deliver, ask to retry, fail, or hang.
@Suite struct ExecChannelTests {
    static func channel(_ script: String, timeout: String = "10s") throws -> (ExecChannel, URL) {
        let directory = URL(fileURLWithPath: TemporaryFiles.path("channels"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let executable = directory.appendingPathComponent("run.sh")
        try ("#!/bin/sh\n" + script).write(to: executable, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: executable.path)
        try "name: sms\nexecutable: run.sh\ncontact: phone\nstyle: short\ntimeout: \(timeout)\nconcurrency: 2\nenvironment: {GATEWAY: test}\n"
            .write(to: directory.appendingPathComponent("sms.yaml"), atomically: true, encoding: .utf8)
        let channels = try ExecChannelManifest.loadAll(directory: directory.path, logger: Logger(label: "test"))
        return (try #require(channels.first), directory)
    }

    static let envelope = Envelope(
        messageId: "m-1",
        channel: "sms",
        recipient: Recipient(id: "m-00001", name: "罗军", language: "zh", phone: "13159636558"),
        address: "13159636558",
        subject: "s",
        text: "【网格】新派单 inc-1",
        notifications: [NoticeSummary(id: "n-1", incidentId: "inc-1", type: "incident.dispatched", text: "t", facts: [:])],
        attempt: 1
    )

    @Test func exitZeroIsDeliveredWithTheProvidersID() async throws {
        let (channel, directory) = try Self.channel(
            "cat > \"$(dirname \"$0\")/input.json\"\necho \"$GATEWAY\" > \"$(dirname \"$0\")/env\"\necho '{\"providerMessageId\": \"sms-77\"}'\n"
        )
        #expect(await channel.deliver(Self.envelope) == .delivered(providerMessageId: "sms-77"))
        let input = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("input.json"))) as? [String: Any]
        #expect(
            input?["messageId"] as? String == "m-1" && input?["address"] as? String == "13159636558" && input?["text"] as? String == "【网格】新派单 inc-1"
        )
        #expect(try String(contentsOf: directory.appendingPathComponent("env"), encoding: .utf8) == "test\n")
    }

    @Test func exit75IsTryAgainAndOtherExitsFailForGood() async throws {
        let (retry, _) = try Self.channel("cat > /dev/null\necho 'gateway busy' >&2\nexit 75\n")
        guard case .retry(let why) = await retry.deliver(Self.envelope) else {
            Issue.record("exit 75 was not a retry")
            return
        }
        #expect(why.contains("gateway busy"))
        let (failed, _) = try Self.channel("cat > /dev/null\necho 'no such number' >&2\nexit 2\n")
        #expect(await failed.deliver(Self.envelope) == .failed("exit status 2: no such number"))
    }

    /// A plugin that hangs is killed at its timeout, with what it started, and tried again later.
    @Test func aHungPluginIsKilledWithItsHelpers() async throws {
        let (channel, directory) = try Self.channel("sleep 30 &\necho $! > \"$(dirname \"$0\")/helper\"\nsleep 30\n", timeout: "500ms")
        // Ended by the 500 ms timeout: left to its 30 s sleep the plugin would exit 0, a delivery.
        // No clock is read: "killed" comes only from the runner's timeout (a busy CI machine once
        // took 6 s to get there, and a bound on the elapsed time failed).
        guard case .retry(let why) = await channel.deliver(Self.envelope) else {
            Issue.record("a hung plugin was not a retry")
            return
        }
        #expect(why.contains("killed after 0.5s"))
        let helper = try #require(
            Int32(String(contentsOf: directory.appendingPathComponent("helper"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        )
        var gone = false
        for _ in 0..<50 where !gone {
            // Dead: gone, or a zombie nobody has reaped yet (PID 1 in a container may not).
            let stat = (try? String(contentsOfFile: "/proc/\(helper)/stat", encoding: .utf8)) ?? ""
            gone = kill(helper, 0) != 0 || stat.split(separator: " ").dropFirst(2).first == "Z"
            if !gone { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(gone, "the plugin's helper outlived it")
    }

    @Test func manifestsAreChecked() throws {
        let directory = URL(fileURLWithPath: TemporaryFiles.path("channels"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "name: sms\nexecutable: missing.sh\n".write(to: directory.appendingPathComponent("sms.yaml"), atomically: true, encoding: .utf8)
        #expect {
            try ExecChannelManifest.loadAll(directory: directory.path, logger: Logger(label: "test"))
        } throws: { error in
            (error as? DefinitionError)?.field == "executable"
        }
    }
}
