import Foundation
import Logging
import TokendEngine
import TokendPostgres
import TokendReports

/// What `run` adds when its database is shared (PostgreSQL): the heartbeat in `nodes` and the
/// shared schedule (`SharedSchedule`), fed to this daemon's engine, and the node's row removed at a clean stop.
enum SharedDatabaseNode {
    /// How often the schedule is polled and the heartbeat beaten.
    static let interval: Duration = .seconds(2)

    /// The host in the heartbeat; `status` matches it to find this machine's daemon.
    static func hostName() -> String { DaemonNode.localHostName() }

    static func start(store: PostgresGrantStore, engine: RefreshEngine, owner: String, logger: Logger) -> Task<Void, Never> {
        let host = hostName()
        let pid = Int(getpid())
        let schedule = SharedSchedule(
            interval: interval, horizon: 10,
            due: { before in try await store.dueGrants(before: before, limit: 10_000).map { ($0.id, $0.nextRefreshAt, $0.abandoned) } },
            heartbeat: { try await store.heartbeat(node: owner, host: host, pid: pid) },
            schedule: { id, at in engine.schedule(id, at: at) },
            logger: logger)
        return Task { await schedule.run() }
    }

    static func stop(_ task: Task<Void, Never>, store: PostgresGrantStore, owner: String) async {
        task.cancel()
        _ = await task.value
        try? await store.removeNode(owner)
    }
}
