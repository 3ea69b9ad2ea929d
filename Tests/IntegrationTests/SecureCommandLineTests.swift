import Foundation
import GridBusTestSupport
import Testing

/// gridctl and gridbusd with CURVE, as an operator uses them: keygen, an access file, a plugin.
@Suite(.timeLimit(.minutes(2)))
struct SecureCommandLineTests {
    @Test func withoutAServerKeyGridbusdExplainsHowToGetOne() async throws {
        let directory = try TemporaryFiles.makeDirectory("it")
        let result = try await run("gridbusd", ["--data-dir", directory + "/bus"], in: directory)
        #expect(result.status == 2)
        #expect(
            result.stderr.contains("security.server-key") && result.stderr.contains("gridctl keygen")
                && result.stderr.contains("--security-mode none")
        )
    }

    @Test func keygenWritesAPairAndRefusesToOverwriteIt() async throws {
        let directory = try TemporaryFiles.makeDirectory("it")
        let first = try await run("gridctl", ["keygen", "ops", "--dir", directory + "/keys"], in: directory)
        #expect(first.status == 0 && first.stdout.contains("ops.key_secret"))
        let secret = try FileManager.default.attributesOfItem(atPath: directory + "/keys/ops.key_secret")
        #expect((secret[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let again = try await run("gridctl", ["keygen", "ops", "--dir", directory + "/keys"], in: directory)
        #expect(again.status == 1 && again.stderr.contains("already exists"))
        let badName = try await run("gridctl", ["keygen", "../ops"], in: directory)
        #expect(badName.status == 2)
    }

    @Test func operatorsPublishAndReadStatusWithKeysAndSeeThePlugins() async throws {
        let directory = try TemporaryFiles.makeDirectory("it")
        for name in ["gridbusd", "ops", "reader"] {
            #expect(try await run("gridctl", ["keygen", name, "--dir", directory + "/keys"], in: directory).status == 0)
        }
        try """
        identities:
          - name: ops
            key-file: keys/ops.key
            publish: ["*"]
            subscribe: ["*"]
          - name: reader
            key-file: keys/reader.key
            subscribe: ["incident.*"]
        """.write(toFile: directory + "/access.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: directory + "/plugins", withIntermediateDirectories: true)
        #expect(try await run("gridctl", ["keygen", "sleeper", "--dir", directory + "/plugins/keys"], in: directory).status == 0)
        try "name: sleeper\nexecutable: sh\nargs: [\"-c\", \"sleep 1000\"]\nsubscribe: [incident.reported]\nkey: keys/sleeper.key_secret\n"
            .write(toFile: directory + "/plugins/sleeper.yaml", atomically: true, encoding: .utf8)
        let daemon = try Child(
            "gridbusd",
            [
                "--data-dir", directory + "/bus", "--http-port", "0", "--bus-ingress", "tcp://127.0.0.1:*",
                "--bus-egress", "tcp://127.0.0.1:*", "--bus-replay", "tcp://127.0.0.1:*",
                "--security-server-key", directory + "/keys/gridbusd.key_secret", "--security-access-file", directory + "/access.yaml",
                "--plugins-dir", directory + "/plugins",
            ],
            in: directory
        )
        let ready = try await readyFile(directory + "/bus/gridbusd.ready")
        let bus = ["--ingress", ready["ingress"]!, "--replay", ready["replay"]!, "--server-key", directory + "/bus/gridbusd.key"]
        let ops = bus + ["--key", directory + "/keys/ops.key_secret"]
        let reader = bus + ["--key", directory + "/keys/reader.key_secret"]

        let published = try await run("gridctl", ["publish"] + ops + ["--type", "incident.reported", "--grid", "G-1"], in: directory)
        #expect(published.status == 0 && published.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(published.stderr)")
        let refused = try await run("gridctl", ["publish"] + reader + ["--type", "incident.reported", "--grid", "G-1"], in: directory)
        #expect(refused.status == 1 && refused.stderr.contains("forbidden"))
        let keyless = try await run("gridctl", ["status", "--replay", ready["replay"]!, "--timeout", "1"], in: directory)
        #expect(keyless.status == 1)

        var status = ""
        for _ in 0..<100 {
            status = try await run("gridctl", ["status"] + ops, in: directory).stdout
            if status.contains("RUNNING") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(status.contains("security        curve · identities: ops, reader, sleeper"), "\(status)")
        #expect(status.contains("sleeper") && status.contains("RUNNING"), "\(status)")
        #expect(!status.contains(try String(contentsOfFile: directory + "/keys/ops.key", encoding: .utf8).split(separator: "\"")[3]))

        daemon.signal(SIGTERM)
        #expect(await daemon.wait(timeout: .seconds(20)) == 0)
        #expect(daemon.stderr.contains("CURVE on") && !daemon.stderr.contains("DEVELOPMENT MODE"))
    }
}
