import CoreMetrics
import Prometheus
import Synchronization

/// swift-metrics over a Prometheus registry, with each metric's help text (`# HELP`), which the
/// swift-metrics API has no place for: the types that create metrics state their names and help
/// in a table (``describe(_:)``), and every family `/metrics` serves then has its HELP and TYPE
/// (`promtool check metrics` passes). Metric and label names are made Prometheus names (dots
/// become underscores), and the libraries' own metrics are given GridBus names (``libraryMetrics``).
public final class DescribedMetricsFactory: MetricsFactory, Sendable {
    public struct Description: Sendable, Equatable {
        /// The name `/metrics` shows (the label when nil).
        public var name: String?
        public var help: String

        public init(name: String? = nil, _ help: String) {
            self.name = name
            self.help = help
        }
    }

    public let registry: PrometheusCollectorRegistry
    private let prometheus: PrometheusMetricsFactory
    private let descriptions: Mutex<[String: Description]>

    /// - Parameter help: each metric's help text, by the label it is created with.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), help: [String: String] = [:]) {
        self.registry = registry
        prometheus = PrometheusMetricsFactory(registry: registry)
        descriptions = Mutex(Self.libraryMetrics)
        describe(help)
    }

    /// Adds help texts, by label (a worker's own metrics, before it creates them).
    public func describe(_ help: [String: String]) {
        descriptions.withLock { $0.merge(help.mapValues { Description($0) }) { $1 } }
    }

    /// Hummingbird's `MetricsMiddleware`, named as Prometheus expects (a counter ends in `_total`,
    /// a duration in `_seconds`).
    public static let libraryMetrics: [String: Description] = [
        "hb.requests": Description(name: "gridbus_http_requests_total", "HTTP requests answered, by route, method and status."),
        "hb.request.errors": Description(
            name: "gridbus_http_request_errors_total",
            "HTTP requests that ended in an error a handler threw, by route, method and status."
        ),
        "http.server.request.duration": Description(
            name: "gridbus_http_request_duration_seconds",
            "Time from an HTTP request's head to its answer, by route, method and status."
        ),
        "http.server.active_requests": Description(name: "gridbus_http_active_requests", "HTTP requests being answered now, by method."),
    ]

    private func named(_ label: String, _ dimensions: [(String, String)]) -> (descriptor: MetricNameDescriptor, labels: [(String, String)]) {
        let description = descriptions.withLock { $0[label] }
        let name = description?.name ?? Self.prometheusName(label)
        // The whole name as the base name: the registry joins the parts, and an empty unit is left out.
        let descriptor = MetricNameDescriptor(metricName: name, unitName: "", helpText: description?.help ?? "")
        return (descriptor, dimensions.map { (Self.prometheusName($0.0), $0.1) })
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`: anything else becomes `_`.
    static func prometheusName(_ text: String) -> String {
        String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") ? $0 : "_" })
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let metric = named(label, dimensions)
        return registry.makeCounter(descriptor: metric.descriptor, labels: metric.labels)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        let metric = named(label, dimensions)
        return registry.makeCounter(descriptor: metric.descriptor, labels: metric.labels)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let metric = named(label, dimensions)
        guard aggregate else { return registry.makeGauge(descriptor: metric.descriptor, labels: metric.labels) }
        return registry.makeValueHistogram(
            descriptor: metric.descriptor,
            labels: metric.labels,
            buckets: prometheus.valueHistogramBuckets[label] ?? prometheus.defaultValueHistogramBuckets
        )
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        let metric = named(label, dimensions)
        return registry.makeGauge(descriptor: metric.descriptor, labels: metric.labels)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let metric = named(label, dimensions)
        return registry.makeDurationHistogram(
            descriptor: metric.descriptor,
            labels: metric.labels,
            buckets: prometheus.durationHistogramBuckets[label] ?? prometheus.defaultDurationHistogramBuckets
        )
    }

    public func destroyCounter(_ handler: any CounterHandler) { prometheus.destroyCounter(handler) }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { prometheus.destroyFloatingPointCounter(handler) }
    public func destroyRecorder(_ handler: any RecorderHandler) { prometheus.destroyRecorder(handler) }
    public func destroyMeter(_ handler: any MeterHandler) { prometheus.destroyMeter(handler) }
    public func destroyTimer(_ handler: any TimerHandler) { prometheus.destroyTimer(handler) }
}
