import Foundation
import GridBusTestSupport
import GridConfiguration
import GridPlugins
import Testing

@Suite struct PluginManifestTests {
    let directory: String

    init() throws {
        directory = TemporaryFiles.path("plugins")
        try FileManager.default.createDirectory(atPath: directory + "/echo", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(
            atPath: directory + "/echo/run.sh",
            contents: Data("#!/bin/sh\n".utf8),
            attributes: [.posixPermissions: 0o755]
        )
    }

    func write(_ name: String, _ text: String) throws -> String {
        let file = directory + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func aFullManifestLoadsWithPathsRelativeToItself() throws {
        let file = try write(
            "echo.yaml",
            """
            name: echo
            executable: echo/run.sh
            args: ["--verbose"]
            environment: {ECHO_PREFIX: "hi"}
            publish: [incident.reported]
            subscribe: ["incident.*"]
            key: keys/echo.key_secret
            restart: always
            backoff: {initial: 100ms, max: 2s}
            give-up: {crashes: 3, window: 30s}
            stop-timeout: 2s
            """
        )
        let manifest = try PluginManifest.load(file)
        #expect(manifest.name == "echo")
        #expect(manifest.executable == directory + "/echo/run.sh")
        #expect(manifest.arguments == ["--verbose"])
        #expect(manifest.environment == ["ECHO_PREFIX": "hi"])
        #expect(manifest.keyFile == directory + "/keys/echo.key_secret")
        #expect(manifest.restart == .always && manifest.backoffInitial == 0.1 && manifest.backoffMax == 2)
        #expect(manifest.giveUpCrashes == 3 && manifest.giveUpWindow == 30 && manifest.stopTimeout == 2)
        #expect(manifest.workingDirectory == directory)
        // A bare command is looked up in PATH.
        let python = try PluginManifest.load(try write("py.yaml", "name: py\nexecutable: sh\n"), searchPath: "/usr/bin:/bin")
        #expect(python.executable.hasSuffix("/sh") && python.restart == .onFailure)
    }

    @Test(arguments: [
        ("name: x\n", "executable", "is required"),
        ("name: x\nexecutable: echo/missing.sh\n", "executable", "does not exist"),
        ("name: x\nexecutable: no-such-command-here\n", "executable", "not found in PATH"),
        ("name: x\nexecutable: echo/run.sh\nrestart: sometimes\n", "restart", "always, on-failure, never"),
        ("name: x\nexecutable: echo/run.sh\nstop-timout: 1s\n", "stop-timout", "did you mean 'stop-timeout'"),
        ("name: x\nexecutable: echo/run.sh\nbackoff: {initial: soon}\n", "backoff.initial", "not a duration"),
        ("name: x\nexecutable: echo/run.sh\nbackoff: {initial: 10s, max: 1s}\n", "backoff.initial", "must not exceed"),
        ("name: x\nexecutable: echo/run.sh\ngive-up: {crashes: 0}\n", "give-up.crashes", "between 1"),
        ("name: x\nexecutable: echo/run.sh\nsubscribe: [incident.nope]\n", "subscribe[0]", "not a registered"),
        ("name: x\nexecutable: echo/run.sh\nenvironment: {GRIDBUS_BUS_KEY: x}\n", "environment.GRIDBUS_BUS_KEY", "set by gridbusd"),
        ("name: x\nexecutable: echo/run.sh\nenvironment: {NOTIFY_SOCKET: \"@x\"}\n", "environment.NOTIFY_SOCKET", "set by gridbusd"),
        ("executable: echo/run.sh\n", "name", "is required"),
    ])
    func malformedManifestsNameFileFieldAndReason(text: String, field: String, reason: String) throws {
        let file = try write("bad.yaml", text)
        do {
            _ = try PluginManifest.load(file)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.file == file)
            #expect(error.field == field, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }

    @Test func aDirectoryLoadsInNameOrderAndCanSkipBadManifests() throws {
        _ = try write("20-b.yaml", "name: b\nexecutable: echo/run.sh\n")
        _ = try write("10-a.yaml", "name: a\nexecutable: echo/run.sh\n")
        _ = try write("30-bad.yaml", "name: c\n")
        _ = try write("notes.txt", "not a manifest")
        #expect(throws: DefinitionError.self) { try PluginManifest.loadDirectory(directory) }
        var skipped: [DefinitionError] = []
        let manifests = try PluginManifest.loadDirectory(directory, skipInvalid: true) { skipped.append($0) }
        #expect(manifests.map(\.name) == ["a", "b"])
        #expect(skipped.map(\.field) == ["executable"])
    }
}

@Suite struct RestartTrackerTests {
    func manifest(_ restart: PluginManifest.Restart) throws -> PluginManifest {
        let directory = TemporaryFiles.path("restart")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let file = directory + "/p.yaml"
        try "name: p\nexecutable: sh\nrestart: \(restart.rawValue)\nbackoff: {initial: 1s, max: 8s}\ngive-up: {crashes: 5, window: 60s}\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        return try PluginManifest.load(file, searchPath: "/usr/bin:/bin")
    }

    @Test func crashesBackOffExponentiallyThenGiveUp() throws {
        var tracker = RestartTracker(manifest: try manifest(.onFailure))
        let delays = (0..<4).map { tracker.exited(success: false, ranFor: 0.1, at: Double($0)) }
        #expect(delays == [.restart(after: 1), .restart(after: 2), .restart(after: 4), .restart(after: 8)])
        #expect(tracker.exited(success: false, ranFor: 0.1, at: 10) == .giveUp(crashes: 5, window: 60))
    }

    @Test func crashesOutsideTheWindowAreForgottenAndALongRunResetsTheBackOff() throws {
        var tracker = RestartTracker(manifest: try manifest(.always))
        for time in [0.0, 1, 2, 3] { _ = tracker.exited(success: false, ranFor: 0.1, at: time) }
        #expect(tracker.exited(success: false, ranFor: 120, at: 200) == .restart(after: 1))
    }

    @Test func policiesDecideAboutCleanExits() throws {
        var onFailure = RestartTracker(manifest: try manifest(.onFailure))
        #expect(onFailure.exited(success: true, ranFor: 5, at: 5) == .stay)
        var always = RestartTracker(manifest: try manifest(.always))
        #expect(always.exited(success: true, ranFor: 5, at: 5) == .restart(after: 1))
        var never = RestartTracker(manifest: try manifest(.never))
        #expect(never.exited(success: false, ranFor: 5, at: 5) == .stay)
    }
}

@Suite struct PluginEnvironmentTests {
    @Test func aPluginGetsAbsolutePathsConnectableEndpointsAndOnlyWhatItShould() throws {
        let directory = TemporaryFiles.path("env")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let file = directory + "/p.yaml"
        try "name: p\nexecutable: sh\nkey: keys/p.key_secret\nenvironment: {PLUGIN_MODE: fast}\n".write(
            toFile: file,
            atomically: true,
            encoding: .utf8
        )
        let manifest = try PluginManifest.load(file, searchPath: "/usr/bin:/bin")
        let environment = PluginEnvironment(
            ingress: "tcp://*:7600",
            egress: "tcp://0.0.0.0:7601",
            replay: "ipc:///run/gridbus/replay",
            serverKeyFile: "var/gridbusd.key",
            dataDirectory: "./var/plugins"
        )
        let variables = environment.variables(for: manifest, inheriting: ["PATH": "/usr/bin", "SECRET_TOKEN": "x", "GRIDBUS_SECURITY_MODE": "none"])
        let cwd = FileManager.default.currentDirectoryPath
        #expect(variables["GRIDBUS_BUS_INGRESS"] == "tcp://127.0.0.1:7600" && variables["GRIDBUS_BUS_EGRESS"] == "tcp://127.0.0.1:7601")
        #expect(variables["GRIDBUS_BUS_REPLAY"] == "ipc:///run/gridbus/replay")
        #expect(variables["GRIDBUS_DATA_DIR"] == cwd + "/var/plugins/p")
        #expect(variables["GRIDBUS_BUS_SERVER_KEY"] == cwd + "/var/gridbusd.key")
        #expect(variables["GRIDBUS_BUS_KEY"] == directory + "/keys/p.key_secret")
        #expect(variables["PLUGIN_MODE"] == "fast" && variables["PATH"] == "/usr/bin" && variables["GRIDBUS_PLUGIN_NAME"] == "p")
        #expect(variables["SECRET_TOKEN"] == nil && variables["GRIDBUS_SECURITY_MODE"] == nil)
        // Development mode: no keys handed over.
        let plain = PluginEnvironment(
            ingress: "tcp://127.0.0.1:1",
            egress: "tcp://127.0.0.1:2",
            replay: "tcp://127.0.0.1:3",
            serverKeyFile: nil,
            dataDirectory: "/d"
        )
        #expect(plain.variables(for: manifest, inheriting: [:])["GRIDBUS_BUS_KEY"] == nil)
        // Where it reports its state, only when the supervisor listens; gridbusd's own is never passed on.
        #expect(plain.variables(for: manifest, inheriting: ["NOTIFY_SOCKET": "/run/systemd/notify"])["NOTIFY_SOCKET"] == nil)
        #expect(plain.variables(for: manifest, inheriting: [:], notifySocket: "@gridbusd/1/p")["NOTIFY_SOCKET"] == "@gridbusd/1/p")
    }
}
