import Foundation
import PostgresNIO
import TokendPolicy
import TokendStore

/// One daemon of a shared database, as its heartbeat row says (`status --json` shows `nodes`).
public struct NodeStatus: Sendable, Equatable {
    /// The daemon's claim owner name ("daemon:HOST:PID:START"): unique per process, across machines.
    public var name: String
    public var host: String
    public var pid: Int
    public var startedAt: Date
    public var heartbeatAt: Date
    /// Its last heartbeat is within the limit asked for, by the database's clock.
    public var alive: Bool
    /// Grants whose refresh it holds now (claims with a running lease).
    public var grantsClaimed: Int

    public init(name: String, host: String, pid: Int, startedAt: Date, heartbeatAt: Date, alive: Bool, grantsClaimed: Int = 0) {
        self.name = name
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.alive = alive
        self.grantsClaimed = grantsClaimed
    }
}

/// A grant another daemon of the database made due (imported, authorised, refreshed), to schedule here.
public struct DueGrant: Sendable, Equatable {
    public var id: Int64
    public var nextRefreshAt: Date?
    /// Its claim's lease ran out: the daemon that held it stopped mid-refresh. Due at once.
    public var abandoned: Bool

    public init(id: Int64, nextRefreshAt: Date?, abandoned: Bool) {
        self.id = id
        self.nextRefreshAt = nextRefreshAt
        self.abandoned = abandoned
    }
}

extension PostgresGrantStore {
    /// Records that daemon `name` is alive now (the database's clock), creating its row at its first beat.
    public func heartbeat(node name: String, host: String, pid: Int) async throws {
        try await transaction { db in
            try await db.query("""
                INSERT INTO nodes (name, host, pid, started_at, heartbeat_at)
                VALUES (\(name), \(host), \(Int32(clamping: pid)), clock_timestamp(), clock_timestamp())
                ON CONFLICT (name) DO UPDATE SET heartbeat_at = clock_timestamp()
                """, logger: logger)
        }
    }

    /// Removes a daemon's row (a clean stop), and those of daemons silent for longer than `forgetAfter`.
    public func removeNode(_ name: String, forgetAfter: TimeInterval = 86_400) async throws {
        try await transaction { db in
            try await db.query("""
                DELETE FROM nodes WHERE name = \(name) OR heartbeat_at < clock_timestamp() - make_interval(secs => \(forgetAfter))
                """, logger: logger)
        }
    }

    /// Every daemon that has beaten, oldest first; `alive` when its last beat is within `aliveWithin`.
    public func nodes(aliveWithin: TimeInterval) async throws -> [NodeStatus] {
        try await query("""
            SELECT name, host, pid, extract(epoch FROM started_at)::double precision, extract(epoch FROM heartbeat_at)::double precision,
                heartbeat_at > clock_timestamp() - make_interval(secs => \(aliveWithin)),
                (SELECT count(*) FROM grants WHERE in_flight_owner = nodes.name AND lease_expires_at > clock_timestamp())
            FROM nodes ORDER BY started_at, name
            """).collect { row in
                NodeStatus(
                    name: try row.string(0) ?? "", host: try row.string(1) ?? "", pid: try row.int(2) ?? 0,
                    startedAt: try row.date(3) ?? .distantPast, heartbeatAt: try row.date(4) ?? .distantPast, alive: try row.bool(5),
                    grantsClaimed: Int(try row.int64(6)))
            }
    }

    /// Grants due before `horizon` that a daemon of this database should look at: scheduled ones,
    /// and any whose claim's lease has run out (its daemon was killed; or a claim copied by `migrate`,
    /// which has no lease on this database's clock), soonest first, at most `limit`.
    /// A live claim (its lease running) is its owner's: not returned. A plain read that locks
    /// nothing: a claim racing it must not find the row locked and take it for another daemon's.
    public func dueGrants(before horizon: Date, limit: Int) async throws -> [DueGrant] {
        let scheduled = GrantStatus.allCases.filter(\.isScheduled).map(\.rawValue)
        return try await query("""
                SELECT id, next_refresh_at, in_flight_owner IS NOT NULL FROM grants
                WHERE ((status = ANY(\(scheduled)) AND next_refresh_at <= \(horizon.epoch) AND in_flight_owner IS NULL)
                       OR (in_flight_owner IS NOT NULL AND coalesce(lease_expires_at < clock_timestamp(), true)))
                ORDER BY next_refresh_at NULLS FIRST LIMIT \(Int64(limit))
                """).collect { DueGrant(id: try $0.int64(0), nextRefreshAt: try $0.date(1), abandoned: try $0.bool(2)) }
    }
}
