import Foundation
import TokendConfig
import TokendEngine
import TokendPolicy
import TokendPostgres
import TokendReports
import TokendStore

/// Which daemons run on the configured database, for `status` and the token API: on PostgreSQL
/// the heartbeats of `nodes` (alive when within one claim lease, by the database's clock), on
/// SQLite the holder of the instance lock.
enum DaemonNodes {
    /// The daemon state `status` reports, read from the database (PostgreSQL) or its lock (SQLite).
    static func state(configuration: TokendConfiguration, store: any GrantStore, records: [GrantRecord], now: Date = Date()) async throws -> DaemonState {
        let lease = StatusRules(settings: configuration.refresh).claimLease
        if let shared = store as? PostgresGrantStore {
            return .shared(
                database: configuration.postgres?.description ?? configuration.database, nodes: try await nodes(of: shared, lease: lease),
                host: DaemonNode.localHostName(),
                missingListeners: { MissingListenersFile.read(database: configuration.localStateBase, pid: $0) })
        }
        let holder = InstanceLock.holder(database: configuration.database)
        guard holder.running else { return DaemonState(running: false) }
        return DaemonState(
            running: true, pid: holder.pid,
            missingListeners: MissingListenersFile.read(database: configuration.localStateBase, pid: holder.pid),
            nodes: holder.pid.map { [DaemonNode.lockHolder(pid: $0, host: DaemonNode.localHostName(), records: records, lease: lease, now: now)] } ?? [])
    }

    /// Every daemon with a heartbeat row, alive when it beat within `lease`.
    static func nodes(of store: PostgresGrantStore, lease: TimeInterval) async throws -> [DaemonNode] {
        try await store.nodes(aliveWithin: lease).map {
            DaemonNode(name: $0.name, host: $0.host, pid: $0.pid, lastSeenAt: $0.heartbeatAt, grantsClaimed: $0.grantsClaimed, alive: $0.alive)
        }
    }
}
