import GridConfiguration
import GridSecurity

/// What a dispatcher API client may do.
public enum DispatcherScope: String, Sendable, Hashable, CaseIterable {
    /// Read cases and take the handlers' actions (the handler app's backend).
    case handler
    /// Everything a handler may, plus placing triaged reports and switching emergency mode.
    case `operator`
}

public typealias DispatcherClient = APIClient<Set<DispatcherScope>>
public typealias DispatcherKeys = APIKeyRing<Set<DispatcherScope>>

/// The dispatcher's keys file: the shared format (`APIKeysFile`) with `scopes` per client.
public enum DispatcherClients {
    public static func load(_ file: String) throws(DefinitionError) -> [DispatcherClient] {
        try APIKeysFile.load(file, profileFields: ["scopes"]) { (entry) throws(DefinitionError) in
            var scopes = Set<DispatcherScope>()
            for (index, name) in try entry.stringList("scopes").enumerated() {
                guard let scope = DispatcherScope(rawValue: name) else {
                    throw entry.error(
                        "scopes[\(index)]",
                        "'\(name)' is not a scope (\(DispatcherScope.allCases.map(\.rawValue).joined(separator: ", ")))"
                    )
                }
                scopes.insert(scope)
            }
            guard !scopes.isEmpty else { throw entry.error("scopes", "is required: handler, operator or both") }
            return scopes
        }
    }
}
