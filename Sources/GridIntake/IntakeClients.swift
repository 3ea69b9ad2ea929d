import GridConfiguration
import GridSchema
import GridSecurity

/// A reporting system: its profile is the channel its reports carry unless they say otherwise.
public typealias IntakeClient = APIClient<ReportChannel>
public typealias IntakeKeys = APIKeyRing<ReportChannel>

/// The intake's keys file: the shared format (`APIKeysFile`) with a `channel` per client.
public enum IntakeClients {
    public static func load(_ file: String) throws(DefinitionError) -> [IntakeClient] {
        try APIKeysFile.load(file, profileFields: ["channel"]) { (entry) throws(DefinitionError) in
            try entry.choice("channel", default: ReportChannel.other)
        }
    }
}
