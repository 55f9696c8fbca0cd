import Metrics
import TokendPolicy

/// What the engine counts for `/metrics`, through swift-metrics: nothing is kept unless the
/// daemon bootstrapped a backend (Prometheus, in `TokendMetrics`).
enum RefreshMetrics {
    /// `imanage_tokend_refreshes_total{organisation,outcome,error_class}` and the refresh's duration
    /// (`imanage_tokend_refresh_duration_seconds`, a histogram).
    static func record(_ attempt: RefreshAttempt, organisation: String, took duration: Duration) {
        let failure = attempt.failure
        Counter(label: "imanage_tokend_refreshes_total", dimensions: [
            ("organisation", organisation), ("outcome", failure == nil ? "success" : "failure"),
            ("error_class", failure?.failureClass.rawValue ?? ""),
        ]).increment()
        Timer(label: "imanage_tokend_refresh_duration_seconds", dimensions: [("organisation", organisation)])
            .record(duration: duration)
    }
}
