import Foundation
import Hummingbird
import Logging
import Prometheus
import TokendHTTP
import TokendReports
import TokendStore

/// What the daemon reports of itself at each scrape, besides its grants.
public struct DaemonFigures: Sendable {
    /// Durable commits and the writes they carried since start (group commit).
    public var commits: Int
    public var writes: Int
    /// The worst delay between a deadline and its timer firing since the last scrape, in seconds.
    public var worstSchedulingLateness: Double

    public init(commits: Int, writes: Int, worstSchedulingLateness: Double) {
        self.commits = commits
        self.writes = writes
        self.worstSchedulingLateness = worstSchedulingLateness
    }
}

/// `GET /metrics` on `metrics_listen`, in the Prometheus text format: swift-prometheus's registry
/// (counters, histograms), the daemon's own figures, and the grants' series read from the store.
public final class MetricsServer: Sendable {
    private let server: RunningHTTPServer
    public var port: Int { server.port }

    private init(server: RunningHTTPServer) {
        self.server = server
    }

    /// Serves until `stop()`.
    ///
    /// - Parameters:
    ///   - store: a read connection of its own (keyless is enough), so a scrape never waits on,
    ///     nor delays, the engine's reads.
    ///   - organisations: the running configuration's organisations (they follow SIGHUP).
    public static func start(
        host: String, port: Int, registry: PrometheusCollectorRegistry, store: any GrantStore, series: GrantSeries,
        organisations: @escaping @Sendable () -> [(name: String, enabled: Bool)],
        figures: @escaping @Sendable () -> DaemonFigures, logger: Logger
    ) async throws -> MetricsServer {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            var bytes = registry.emitToBuffer()
            let daemon = figures()
            bytes += Array(Self.daemonText(daemon).utf8)
            let records = try await store.records(organisation: nil, kind: nil)
            bytes += series.bytes(records: records, organisations: organisations(), now: Date())
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        let server = try await RunningHTTPServer.start(router: router, address: .hostname(host, port: port), limits: .api, logger: logger)
        logger.info("metrics on http://\(host):\(server.port)/metrics")
        return MetricsServer(server: server)
    }

    public func stop() async { await server.stop() }

    static func daemonText(_ figures: DaemonFigures) -> String {
        var commits = GrantSeries.Family("imanage_tokend_store_commits_total", "Durable commits of the database since start.", type: "counter")
        commits.add([], Double(figures.commits))
        var writes = GrantSeries.Family("imanage_tokend_store_writes_total", "Writes carried by those commits since start.", type: "counter")
        writes.add([], Double(figures.writes))
        var lateness = GrantSeries.Family("imanage_tokend_scheduler_lateness_seconds",
                                          "The worst delay of a refresh timer past its deadline since the last scrape.")
        lateness.add([], figures.worstSchedulingLateness)
        return [commits, writes, lateness].map(\.text).joined()
    }
}
