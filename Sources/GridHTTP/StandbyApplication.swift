import GridBusClient
import GridMetrics
import GridSchema
import HTTPTypes
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// A worker instance's wait as a standby (``WorkerLease``): its HTTP server answers as below until
/// it holds the store's lease, when `wait` returns. Nil without a lease (a SQLite store has one
/// instance). The program runs them before it builds anything (GridProgram's `ProgramStandby`).
public func workerStandby(
    _ program: String,
    lease: WorkerLease?,
    host: String,
    port: Int,
    metrics: DescribedMetricsFactory,
    logger: Logger
) -> (serving: any Service, wait: @Sendable () async throws -> Void)? {
    guard let lease else { return nil }
    let serving = standbyApplication(program: program, host: host, port: port, metrics: metrics, state: lease.standbyState, logger: logger)
    return (serving, { try await lease.acquire(metrics: metrics) })
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
