import GridConfiguration
import GridMetrics
import GridSecurity
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The HTTP server of a worker, with every request counted and timed (Hummingbird's
/// `MetricsMiddleware`, into the process's metrics): once it listens it tells `onReady` its address
/// (the program writes its ready file, which tests and gridbusd's plugin supervision wait for) and
/// logs that it is ready.
public func workerApplication<Context: RequestContext>(
    router: Router<Context>,
    program: String,
    host: String,
    port: Int,
    logger: Logger,
    onReady: @escaping ReadyHandler,
    readyMetadata: Logger.Metadata = [:]
) -> Application<RouterResponder<Context>> {
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

/// A worker's router: every request counted and timed (Hummingbird's `MetricsMiddleware`, into
/// the process's metrics system), the routes added after it included.
public func workerRouter<Context: RequestContext>(context: Context.Type) -> Router<Context> {
    let router = Router(context: Context.self)
    router.add(middleware: MetricsMiddleware())
    return router
}

extension Router {
    /// The routes every worker serves without a key: `/healthz`, `/metrics` (numbers only, no
    /// personal data; bind the port to loopback or behind your own access control) and
    /// `/openapi.json`, the OpenAPI document of its API.
    ///
    /// - Parameters:
    ///   - metrics: the process's registry (what its code counts as things happen).
    ///   - scrape: families read at scrape time (a store's counts), in the Prometheus text format.
    ///   - openAPI: the worker's own paths and schemas; ``WorkerOpenAPI`` adds what every worker shares.
    public func addWorkerRoutes(
        metrics: DescribedMetricsFactory,
        scrape: [@Sendable () async throws -> String],
        openAPI: String,
        health: @escaping @Sendable () async -> [String: String] = { ["status": "ok"] }
    ) {
        get("/healthz") { _, _ in HTTPSupport.json(.ok, await health()) }
        get("/metrics") { _, _ in
            var text = String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self)
            for family in scrape { text += try await family() }
            return HTTPSupport.text(.ok, text, contentType: PrometheusText.contentType)
        }
        let document = ByteBuffer(string: WorkerOpenAPI.document(openAPI))
        get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: document))
        }
    }
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
