import Foundation
import GridBusDaemon
import GridBusTestSupport
import GridConfiguration
import GridPostgres
import GridSecurity
import Testing
import ZeroMQ

@Suite struct BusConfigurationTests {
    func load(_ arguments: [String], environment: [String: String] = [:]) async throws -> BusConfiguration {
        try BusConfiguration(
            reader: try await GridConfigReader.load(
                arguments: ["gridbusd"] + arguments,
                keys: BusConfiguration.keys,
                environment: environment
            ),
            environment: environment
        )
    }

    @Test func defaultsAreDesignsLoopbackPorts() async throws {
        let configuration = try await load(["--security-mode", "none"])
        #expect(configuration.ingressEndpoint == "tcp://127.0.0.1:7600")
        #expect(configuration.egressEndpoint == "tcp://127.0.0.1:7601")
        #expect(configuration.replayEndpoint == "tcp://127.0.0.1:7602")
        #expect(configuration.httpPort == 7680)
        #expect(configuration.journalPath == "./var/journal.sqlite")
        #expect(configuration.durability == .full)
        #expect(configuration.maxEventSize == 1 << 20)
    }

    @Test func curveIsTheDefaultAndNeedsAServerKey() async throws {
        do {
            _ = try await load([])
            Issue.record("started without CURVE keys and without asking for development mode")
        } catch let error as ConfigurationError {
            #expect(error.key == "security.server-key")
            #expect(error.description.contains("gridctl keygen") && error.description.contains("--security-mode none"))
        }
        let configuration = try await load(["--security-server-key", "/etc/gridbus/keys/gridbusd.key_secret"])
        #expect(configuration.securityMode == .curve)
        #expect(configuration.serverKeyFile == "/etc/gridbus/keys/gridbusd.key_secret")
    }

    @Test func flagsBeatEnvironmentWhichBeatsTheFile() async throws {
        let file = TemporaryFiles.path("gridbusd", extension: "yaml")
        try """
        http:
          port: 9001
        journal:
          max-bytes: 64MiB
          durability: normal
        egress:
          heartbeat-interval: 250ms
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let configuration = try await load(
            ["--config", file, "--http-port", "9003", "--security-mode", "none"],
            environment: ["GRIDBUS_HTTP_PORT": "9002", "GRIDBUS_DATA_DIR": "/tmp/x"]
        )
        #expect(configuration.httpPort == 9003)
        #expect(configuration.retentionMaxBytes == 64 << 20)
        #expect(configuration.durability == .normal)
        #expect(configuration.heartbeatInterval == 0.25)
        #expect(configuration.journalPath == "/tmp/x/journal.sqlite")
        let fromEnvironment = try await load(["--config", file], environment: ["GRIDBUS_HTTP_PORT": "9002", "GRIDBUS_SECURITY_MODE": "none"])
        #expect(fromEnvironment.httpPort == 9002)
    }

    @Test(arguments: [
        (["--http-port", "http"], "http.port", "not an integer"),
        (["--http-port", "70000"], "http.port", "between 0 and 65535"),
        (["--journal-durability", "sometimes"], "journal.durability", "full, normal"),
        (["--journal-max-age", "forever"], "journal.max-age", "not a duration"),
        (["--ingress-max-event-size", "1XB"], "ingress.max-event-size", "not a size"),
        (["--bus-ingress", "127.0.0.1:7600"], "bus.ingress", "not a ZeroMQ endpoint"),
        (["--bus-replay", "tcp://127.0.0.1:7600"], "bus.replay", "three different endpoints"),
        (["--log-level", "loud"], "log.level", "must be"),
        (["--security-mode", "open"], "security.mode", "curve, none"),
        (["--zmq-io-threads", "0"], "zmq.io-threads", "between 1 and 16"),
        (["--no-such-option", "1"], "--no-such-option", "unknown option"),
        (["--http-port", "1", "--http-port", "2"], "--http-port", "given twice"),
    ])
    func badValuesNameTheKeyAndTheReason(arguments: [String], key: String, reason: String) async {
        do {
            _ = try await load(arguments)
            Issue.record("accepted \(arguments)")
        } catch let error as ConfigurationError {
            #expect(error.key == key)
            #expect(error.description.contains(reason), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func aMisspeltKeyInTheFileIsRefusedWithASuggestion() async throws {
        let file = TemporaryFiles.path("gridbusd", extension: "yaml")
        try "journal:\n  max-byte: 1GiB\n".write(toFile: file, atomically: true, encoding: .utf8)
        do {
            _ = try await load(["--config", file])
            Issue.record("accepted a misspelt key")
        } catch let error as ConfigurationError {
            #expect(error.key == "journal.max-byte")
            #expect(error.description.contains("did you mean 'journal.max-bytes'"))
        }
    }

    /// The bus's endpoints were `ingress.endpoint`, `egress.endpoint` and `replay.endpoint`; a flag,
    /// a variable or a file that still says so is refused with the new name, not ignored.
    @Test func aRenamedKeyIsRefusedWithItsNewName() async throws {
        let file = TemporaryFiles.path("gridbusd", extension: "yaml")
        try "egress:\n  endpoint: tcp://127.0.0.1:7601\n".write(toFile: file, atomically: true, encoding: .utf8)
        let attempts: [(arguments: [String], environment: [String: String], key: String, reason: String)] = [
            (
                ["--ingress-endpoint", "tcp://127.0.0.1:7600"], [:], "--ingress-endpoint",
                "use --bus-ingress, GRIDBUS_BUS_INGRESS or the key 'bus.ingress'"
            ),
            ([], ["GRIDBUS_REPLAY_ENDPOINT": "tcp://127.0.0.1:7602"], "GRIDBUS_REPLAY_ENDPOINT", "use --bus-replay"),
            (["--config", file], [:], "egress.endpoint", "was renamed 'bus.egress'"),
        ]
        for attempt in attempts {
            do {
                _ = try await load(attempt.arguments + ["--security-mode", "none"], environment: attempt.environment)
                Issue.record("accepted \(attempt.key)")
            } catch let error as ConfigurationError {
                #expect(error.key == attempt.key)
                #expect(error.description.contains(attempt.reason), "\(error)")
            }
        }
    }

    @Test func theSampleConfigurationInDeployIsValid() async throws {
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/gridbusd.yaml").path
        let configuration = try await load(["--config", sample])
        #expect(configuration.dataDirectory == "/var/lib/gridbus")
        #expect(configuration.retentionMaxAge == 30 * 86400)
        #expect(configuration.retentionMaxBytes == 20 << 30)
        #expect(configuration.securityMode == .curve)
        #expect(configuration.serverKeyFile == "/etc/gridbus/keys/gridbusd.key_secret")
        #expect(configuration.accessFile == "/etc/gridbus/access.yaml")
    }

    /// A password file as an operator writes it: one line, mode 0600.
    static func passwordFile(_ text: String, mode: mode_t = 0o600) throws -> String {
        let path = TemporaryFiles.path("password")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
        return path
    }

    @Test func aHostListReadsTheSameFromAFlagTheEnvironmentAndTheFile() async throws {
        let url = "postgresql://gridbus@db1:5432,db2:5433/gridbus"
        let file = TemporaryFiles.path("gridbusd", extension: "yaml")
        try Data("security:\n  mode: none\njournal:\n  backend: postgresql\n  url: \(url)\n".utf8).write(to: URL(fileURLWithPath: file))
        let fromFlag = try await load(["--security-mode", "none", "--journal-backend", "postgresql", "--journal-url", url])
        let fromEnvironment = try await load(
            ["--security-mode", "none"],
            environment: ["GRIDBUS_JOURNAL_BACKEND": "postgresql", "GRIDBUS_JOURNAL_URL": url]
        )
        let fromFile = try await load(["--config", file])
        for configuration in [fromFlag, fromEnvironment, fromFile] {
            #expect(configuration.journalURL?.hosts.map(\.description) == ["db1:5432", "db2:5433"])
        }
    }

    @Test func theClusterNodeConfigurationInDeployIsValid() async throws {
        let sample = Self.repository.appendingPathComponent("deploy/cluster/gridbusd-node.yaml").path
        let configuration = try await load(["--config", sample, "--journal-password-file", Self.passwordFile("s3cret\n")])
        #expect(configuration.journalBackend == .postgresql)
        let url = try #require(configuration.journalURL)
        #expect(url.hosts.map(\.description) == ["db1:5432", "db2:5432", "db3:5432"])
        #expect(url.user == "gridbus" && url.database == "gridbus" && url.target == .readWrite && url.tls == .require)
        #expect(configuration.journalPassword == "s3cret", "the file's one line, without its newline")
        #expect(configuration.clusterAdvertise == "tcp://10.0.0.11:7600" && configuration.leaseSeconds == 2)
        #expect(!configuration.journalDescription.contains("s3cret"))
    }

    @Test func aPostgreSQLPasswordNeverComesFromTheURLOrAReadableFile() async throws {
        let arguments = ["--security-mode", "none", "--journal-backend", "postgresql", "--journal-url"]
        await #expect {
            _ = try await load(arguments + ["postgresql://gridbus:hunter2@db1/gridbus"])
        } throws: { error in
            let text = "\(error)"
            return text.contains("journal.url") && text.contains("password") && !text.contains("hunter2")
        }
        await #expect {
            _ = try await load(arguments + ["postgresql://gridbus@db1/gridbus", "--journal-password-file", Self.passwordFile("x", mode: 0o644)])
        } throws: { error in "\(error)".contains("journal.password-file") && "\(error)".contains("chmod 600") }
        // The environment variable, when there is no file.
        let fromEnvironment = try await load(arguments + ["postgresql://gridbus@db1/gridbus"], environment: ["GRIDBUS_JOURNAL_PASSWORD": "pw"])
        #expect(fromEnvironment.journalPassword == "pw")
    }

    @Test(arguments: [
        (["--journal-backend", "postgresql"], "journal.url", "required"),
        (["--journal-url", "postgresql://g@db1/g"], "journal.url", "only read with journal.backend postgresql"),
        (["--journal-backend", "postgresql", "--journal-url", "mysql://g@db1/g"], "journal.url", "must start with postgresql://"),
        (["--journal-backend", "postgresql", "--journal-url", "postgresql://db1/g"], "journal.url", "names no user"),
        (["--journal-backend", "postgresql", "--journal-url", "postgresql://g@db1:70000/g"], "journal.url", "port must be 1–65535"),
        (
            ["--journal-backend", "postgresql", "--journal-url", "postgresql://g@db1/g?target_session_attrs=primary"], "journal.url",
            "read-write or any"
        ),
        (["--journal-backend", "postgresql", "--journal-url", "postgresql://g@db1,/g"], "journal.url", "empty host"),
        (["--cluster-advertise", "tcp://0.0.0.0:*"], "cluster.advertise", "not an endpoint"),
        (["--cluster-lease-timeout", "10ms"], "cluster.lease-timeout", "between 200ms and 60s"),
    ])
    func badClusterSettingsNameTheKeyAndTheReason(arguments: [String], key: String, reason: String) async {
        await #expect {
            _ = try await load(arguments)
        } throws: { error in "\(error)".contains(key) && "\(error)".contains(reason) }
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// docs/operations.md's configuration table lists every key gridbusd takes, with its default.
    @Test func theOperationsGuideListsEveryKey() throws {
        let guide = try String(contentsOf: Self.repository.appendingPathComponent("docs/operations.md"), encoding: .utf8)
        for key in BusConfiguration.keys {
            let row = guide.split(separator: "\n").first { $0.hasPrefix("| `\(key.name)` |") }
            #expect(row != nil, "docs/operations.md has no row for \(key.name)")
            if let row, !key.defaultValue.isEmpty { #expect(row.contains("`\(key.defaultValue)`"), "\(key.name): default \(key.defaultValue)") }
        }
    }

    /// deploy/access.yaml loads once its keys exist (here under a temporary directory).
    @Test func theSampleAccessFileInDeployIsValid() throws {
        let directory = TemporaryFiles.path("deploy")
        let text = try String(contentsOf: Self.repository.appendingPathComponent("deploy/access.yaml"), encoding: .utf8)
        for name in ["ops", "monitoring", "hotline-gateway"] {
            try CurveCertificate.write(try ZMQCurveKeyPair.generate(), name: name, directory: directory + "/keys")
        }
        try text.replacingOccurrences(of: "/etc/gridbus/keys/", with: directory + "/keys/").write(
            toFile: directory + "/access.yaml",
            atomically: true,
            encoding: .utf8
        )
        let policy = try AccessPolicy(identities: try AccessFile.load(directory + "/access.yaml"))
        #expect(policy.identity(named: "hotline-gateway")?.mayPublish(topic: Array("incident.reported/G-1".utf8)) == true)
        #expect(policy.identity(named: "monitoring")?.mayPublish(topic: Array("incident.reported/G-1".utf8)) == false)
    }

    @Test func aMissingConfigFileIsABadConfiguration() async {
        await #expect(throws: ConfigurationError.self) { _ = try await load(["--config", "/nonexistent/gridbusd.yaml"]) }
    }
}
