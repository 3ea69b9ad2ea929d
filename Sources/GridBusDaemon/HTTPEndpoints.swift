import Hummingbird
import Prometheus

/// `/healthz` and `/metrics` of gridbusd.
struct HTTPEndpoints<Context: RequestContext> {
    let daemon: BusDaemon
    let registry: PrometheusCollectorRegistry

    func register(on router: Router<Context>) {
        router.get("/healthz") { _, _ -> Response in
            let healthy = daemon.isHealthy
            let body = #"{"status":"\#(healthy ? "ok" : "starting or failing")","head":\#(daemon.headSequence)}"# + "\n"
            return Response(
                status: healthy ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body))
            )
        }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
    }
}
