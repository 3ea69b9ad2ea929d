import GridBusClient
import GridMetrics
import GridSchema
import HTTPTypes
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// How one instance of a worker runs over its store: alone on SQLite; on PostgreSQL as the
/// active instance or a standby of several sharing the store, by its lease (``WorkerLease``).
/// The program waits with `standby` (GridProgram's `ProgramStandby`) before it builds anything,
/// and builds with `lease`.
public struct WorkerInstance: Sendable {
    public typealias Standby = (
        serving: any Service, wait: @Sendable (@escaping @Sendable () -> Void) async throws -> Void, epoch: @Sendable () -> Int64
    )
    public let lease: WorkerLease?
    /// Nil without a lease. Until the lease is held, its HTTP server answers as ``standbyApplication``.
    public let standby: Standby?

    /// - Parameter schema: the worker's schema in the store, which the lease guards.
    public init(_ program: String, store: StoreSettings, schema: String, host: String, port: Int, metrics: DescribedMetricsFactory, logger: Logger) {
        let lease = store.lease(schema: schema, http: "http://\(host):\(port)", logger: logger)
        self.lease = lease
        standby = lease.map { lease in
            (
                standbyApplication(program: program, host: host, port: port, metrics: metrics, state: lease.standbyState, logger: logger),
                { waiting in try await lease.acquire(metrics: metrics, waiting: waiting) },
                { lease.heldEpoch }
            )
        }
    }
}

/// The HTTP server of a worker instance waiting as a standby (another instance is active on their
/// shared store): `/healthz` answers 200 with `"role": "standby"` and where the active instance is,
/// `/metrics` the process's metrics, and every other request 503 with `Retry-After: 1` and the
/// active instance's address: `{"errors":[{"field":"instance","reason":"…"}],"active":"http://…"}`.
/// Nothing is forwarded, so a request is never half-done by an instance that cannot write; a
/// client, or a load balancer that checks `/healthz`, sends it to the active instance.
public func standbyApplication(
    program: String,
    host: String,
    port: Int,
    metrics: DescribedMetricsFactory,
    state: @escaping @Sendable () -> (isStandby: Bool, active: String?),
    logger: Logger
) -> some Service {
    let router = workerRouter(context: BasicRequestContext.self)
    router.get("/healthz") { _, _ in
        HTTPSupport.json(.ok, ["status": "ok", "role": "standby", "active": state().active ?? ""])
    }
    router.get("/metrics") { _, _ in
        HTTPSupport.text(.ok, String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self), contentType: PrometheusText.contentType)
    }
    let answer: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
        let active = state().active
        let reason =
            active.map { "this instance is a standby; the active instance is at \($0)" }
            ?? "this instance is a standby and no instance is active now; try again shortly"
        return HTTPSupport.json(
            .serviceUnavailable,
            StandbyAnswer(errors: [FieldError("instance", reason)], active: active),
            headers: [.retryAfter: "1"]
        )
    }
    for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
        router.on("/**", method: method, use: answer)
        router.on("/", method: method, use: answer)
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: program),
        onServerRunning: { channel in
            logger.notice("\(program) waits as a standby", metadata: ["http": "http://\(host):\(channel.localAddress?.port ?? port)"])
        },
        logger: logger
    )
}

private struct StandbyAnswer: Encodable {
    let errors: [FieldError]
    let active: String?
}
