import GridConfiguration
import GridSecurity
import Hummingbird
import Logging

/// The HTTP server of a worker: once it listens it tells `onReady` its address (the program writes
/// its ready file, which tests and gridbusd's plugin supervision wait for) and logs that it is ready.
public func workerApplication(
    router: Router<BasicRequestContext>,
    program: String,
    host: String,
    port: Int,
    logger: Logger,
    onReady: @escaping ReadyHandler,
    readyMetadata: Logger.Metadata = [:]
) -> Application<RouterResponder<BasicRequestContext>> {
    Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: program),
        onServerRunning: { channel in
            let address = "http://\(host):\(channel.localAddress?.port ?? port)"
            onReady(ListeningAddresses(http: address))
            logger.notice("\(program) ready", metadata: readyMetadata.merging(["http": "\(address)"]) { $1 })
        },
        logger: logger
    )
}

extension APIAuthSettings {
    /// The keys of `auth.keys-file` read with `load`, or in development mode a ring that admits
    /// everyone as `development` (with a warning saying what that allows).
    public func keyRing<Profile>(
        load: (String) throws(DefinitionError) -> [APIClient<Profile>],
        development: Profile,
        allows: String,
        logger: Logger
    ) throws(DefinitionError) -> APIKeyRing<Profile> {
        switch mode {
        case .keys: return APIKeyRing(clients: try load(keysFile ?? ""))
        case .none:
            logger.warning("DEVELOPMENT MODE: auth.mode is none; anyone who reaches the port can \(allows)")
            return APIKeyRing(clients: [], developmentProfile: development)
        }
    }
}
