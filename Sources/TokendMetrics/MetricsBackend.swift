import CoreMetrics
import Metrics
import Prometheus

/// The process's swift-metrics backend: swift-prometheus, so the counters and histograms the
/// engine and the HTTP client record (`imanage_tokend_refreshes_total`,
/// `imanage_tokend_imanage_requests_total`, `imanage_tokend_refresh_duration_seconds`) are in
/// `/metrics`. Bootstrapped once, by `run`, before anything records.
public enum MetricsBackend {
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = refreshBuckets
        MetricsSystem.bootstrap(HelpTextFactory(prometheus: factory, registry: registry))
        return registry
    }

    /// Refreshes take milliseconds on loopback and seconds across the world; timeouts are 30 s.
    static let refreshBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
    ]

    /// The family of a name the daemon records through swift-metrics (which has no help text).
    static func descriptor(of label: String) -> MetricNameDescriptor? {
        let (name, unit, help): (String, String, String)
        switch label {
        case "imanage_tokend_refreshes_total":
            (name, unit, help) = ("refreshes", "total", "Refreshes by organisation, outcome (success, failure) and error class.")
        case "imanage_tokend_imanage_requests_total":
            (name, unit, help) = ("imanage_requests", "total", "Requests to iManage by organisation, endpoint and HTTP status (error: no answer).")
        case "imanage_tokend_refresh_duration_seconds":
            (name, unit, help) = ("refresh_duration", "seconds", "How long a refresh took, from its claim to the answer of iManage.")
        default:
            return nil
        }
        return MetricNameDescriptor(namespace: "imanage_tokend", metricName: name, unitName: unit, helpText: help)
    }
}

/// swift-prometheus's factory, except that the daemon's own families get their help text, so
/// `promtool check metrics` has nothing to remark. swift-prometheus's factory always registers an
/// empty help, and its registry refuses a second registration with another help, so the help is
/// given here, at the one registration; everything else goes to swift-prometheus's factory.
struct HelpTextFactory: CoreMetrics.MetricsFactory {
    let prometheus: PrometheusMetricsFactory
    let registry: PrometheusCollectorRegistry

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let descriptor = MetricsBackend.descriptor(of: label) else { return prometheus.makeCounter(label: label, dimensions: dimensions) }
        return registry.makeCounter(descriptor: descriptor, labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        prometheus.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        prometheus.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        prometheus.makeMeter(label: label, dimensions: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard let descriptor = MetricsBackend.descriptor(of: label) else { return prometheus.makeTimer(label: label, dimensions: dimensions) }
        return registry.makeDurationHistogram(descriptor: descriptor, labels: dimensions, buckets: MetricsBackend.refreshBuckets)
    }

    func destroyCounter(_ handler: any CounterHandler) { prometheus.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { prometheus.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { prometheus.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { prometheus.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { prometheus.destroyTimer(handler) }
}
