import Foundation

/// What gridbusd hands every plugin in its environment (docs/plugins.md, "Environment").
public struct PluginEnvironment: Sendable {
    /// Endpoints as a client on this host reaches them (a wildcard bind becomes 127.0.0.1).
    public var ingress: String
    public var egress: String
    public var replay: String
    /// The daemon's public certificate, in CURVE mode.
    public var serverKeyFile: String?
    /// Each plugin gets `<dataDirectory>/<name>` as its own directory.
    public var dataDirectory: String

    public init(ingress: String, egress: String, replay: String, serverKeyFile: String?, dataDirectory: String) {
        self.ingress = Self.connectable(ingress)
        self.egress = Self.connectable(egress)
        self.replay = Self.connectable(replay)
        self.serverKeyFile = serverKeyFile.map(PluginManifest.absolute)
        // Plugins start in their own working directory: a relative path would point elsewhere.
        self.dataDirectory = (PluginManifest.absolute(dataDirectory) as NSString).standardizingPath
    }

    /// Variables passed through from gridbusd's own environment; everything else is left out so that
    /// a plugin's behaviour depends on its manifest, not on how the daemon was started.
    static let inherited = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYTHONPATH"]

    /// - Parameter notifySocket: where the plugin reports its state (`NOTIFY_SOCKET`, as systemd names it).
    public func variables(for manifest: PluginManifest, inheriting parent: [String: String], notifySocket: String? = nil) -> [String: String] {
        var variables = parent.filter { Self.inherited.contains($0.key) }
        variables.merge(manifest.environment) { $1 }
        variables["NOTIFY_SOCKET"] = notifySocket
        variables["GRIDBUS_PLUGIN_NAME"] = manifest.name
        variables["GRIDBUS_BUS_INGRESS"] = ingress
        variables["GRIDBUS_BUS_EGRESS"] = egress
        variables["GRIDBUS_BUS_REPLAY"] = replay
        variables["GRIDBUS_DATA_DIR"] = "\(dataDirectory)/\(manifest.name)"
        if let serverKeyFile, let keyFile = manifest.keyFile {
            variables["GRIDBUS_BUS_SERVER_KEY"] = serverKeyFile
            variables["GRIDBUS_BUS_KEY"] = keyFile
        }
        return variables
    }

    static func connectable(_ endpoint: String) -> String {
        endpoint.replacingOccurrences(of: "tcp://*:", with: "tcp://127.0.0.1:").replacingOccurrences(of: "tcp://0.0.0.0:", with: "tcp://127.0.0.1:")
    }
}
