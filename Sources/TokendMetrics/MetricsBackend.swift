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
        // Refreshes take milliseconds on loopback and seconds across the world; timeouts are 30 s.
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }
}
