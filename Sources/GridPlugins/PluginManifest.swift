import Foundation
import GridConfiguration
import GridSecurity

/// A worker plugin, as declared by one YAML file in the plugins directory. See docs/plugins.md.
///
/// ```yaml
/// name: echo
/// executable: echo/echo.py          # relative to this file, absolute, or a command found in PATH
/// args: ["--verbose"]
/// environment: {ECHO_PREFIX: "echo"}
/// publish: [incident.commented]     # becomes the ACL of the identity `echo`
/// subscribe: [incident.reported]
/// key: keys/echo.key_secret         # its CURVE secret certificate (required with security.mode curve)
/// restart: on-failure               # always | on-failure | never
/// backoff: {initial: 500ms, max: 30s}
/// give-up: {crashes: 5, window: 60s}
/// stop-timeout: 10s
/// ```
public struct PluginManifest: Sendable, Equatable {
    public enum Restart: String, Sendable, CaseIterable {
        case always
        case onFailure = "on-failure"
        case never
    }

    public var name: String
    public var file: String
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String
    public var publish: [TopicPattern]
    public var subscribe: [TopicPattern]
    /// Absolute path of the plugin's secret certificate, when it has one.
    public var keyFile: String?
    public var restart: Restart
    public var backoffInitial: Double
    public var backoffMax: Double
    public var giveUpCrashes: Int
    public var giveUpWindow: Double
    public var stopTimeout: Double

    public static let fields = [
        "name", "executable", "args", "environment", "working-directory", "publish", "subscribe", "key", "restart", "backoff", "give-up",
        "stop-timeout",
    ]

    /// Reads and checks one manifest; every error names the file and the field.
    public static func load(
        _ file: String,
        searchPath: String? = ProcessInfo.processInfo.environment["PATH"]
    ) throws(DefinitionError)
        -> PluginManifest
    {
        let root = try YAMLDefinition.load(file: file)
        try root.allowOnly(fields)
        let directory = absolute((file as NSString).deletingLastPathComponent)
        let name = try AccessFile.identityName(root)
        let executable = try resolveExecutable(try root.requiredString("executable"), directory: directory, searchPath: searchPath, root: root)
        var environment: [String: String] = [:]
        for (key, value) in try root.stringMap("environment") {
            guard !key.isEmpty, !key.contains("=") else { throw root.error("environment.\(key)", "not a valid variable name") }
            guard !key.hasPrefix("GRIDBUS_BUS_"), key != "GRIDBUS_PLUGIN_NAME", key != "NOTIFY_SOCKET" else {
                throw root.error("environment.\(key)", "is set by gridbusd itself (see docs/plugins.md)")
            }
            environment[key] = value
        }
        let workingDirectory = AccessFile.resolve(try root.string("working-directory") ?? ".", against: directory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: workingDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw root.error("working-directory", "'\(workingDirectory)' is not a directory")
        }
        let keyFile = try root.string("key").map { AccessFile.resolve($0, against: directory) }
        let backoff = try root.object("backoff")
        try backoff?.allowOnly(["initial", "max"])
        let giveUp = try root.object("give-up")
        try giveUp?.allowOnly(["crashes", "window"])
        let manifest = PluginManifest(
            name: name,
            file: file,
            executable: executable,
            arguments: try root.stringList("args"),
            environment: environment,
            workingDirectory: (workingDirectory as NSString).standardizingPath,
            publish: try AccessFile.patterns(root, "publish"),
            subscribe: try AccessFile.patterns(root, "subscribe"),
            keyFile: keyFile,
            restart: try root.choice("restart", default: .onFailure),
            backoffInitial: try backoff?.duration("initial", default: 0.5) ?? 0.5,
            backoffMax: try backoff?.duration("max", default: 30) ?? 30,
            giveUpCrashes: try giveUp?.int("crashes", default: 5, in: 1...1000) ?? 5,
            giveUpWindow: try giveUp?.duration("window", default: 60) ?? 60,
            stopTimeout: try root.duration("stop-timeout", default: 10)
        )
        guard manifest.backoffInitial <= manifest.backoffMax else {
            throw root.error("backoff.initial", "must not exceed backoff.max")
        }
        return manifest
    }

    /// Every `*.yaml`/`*.yml` file directly in `directory`, in name order (which is the start order).
    /// With `skipInvalid`, a bad manifest is reported through `onSkipped` instead of failing the load.
    public static func loadDirectory(
        _ directory: String,
        skipInvalid: Bool = false,
        onSkipped: (DefinitionError) -> Void = { _ in }
    ) throws(DefinitionError) -> [PluginManifest] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw DefinitionError(file: directory, field: "", reason: "cannot list the plugins directory: \((error as NSError).localizedDescription)")
        }
        var manifests: [PluginManifest] = []
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let file = (directory as NSString).appendingPathComponent(name)
            do throws(DefinitionError) {
                let manifest = try load(file)
                if let other = manifests.first(where: { $0.name == manifest.name }) {
                    throw DefinitionError(file: file, field: "name", reason: "plugin '\(manifest.name)' is also declared in \(other.file)")
                }
                manifests.append(manifest)
            } catch {
                guard skipInvalid else { throw error }
                onSkipped(error)
            }
        }
        return manifests
    }

    static func resolveExecutable(_ command: String, directory: String, searchPath: String?, root: YAMLDefinition) throws(DefinitionError) -> String {
        var candidates: [String]
        if command.contains("/") {
            candidates = [AccessFile.resolve(command, against: directory)]
        } else {
            candidates = (searchPath ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map { "\($0)/\(command)" }
        }
        candidates = candidates.map { ($0 as NSString).standardizingPath }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            let place = command.contains("/") ? "'\(candidates[0])' does not exist or is not executable" : "'\(command)' is not found in PATH"
            throw root.error("executable", place)
        }
        return found
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        let cwd = FileManager.default.currentDirectoryPath
        return path.isEmpty ? cwd : (cwd as NSString).appendingPathComponent(path)
    }
}
