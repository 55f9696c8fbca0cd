import Foundation
import TokendPolicy

/// One daemon of the database, as `status` and `GET /v1/status` list it (`nodes`): on PostgreSQL
/// every daemon with a heartbeat row; on SQLite the one daemon holding the instance lock.
public struct DaemonNode: Sendable, Equatable {
    /// Its claim owner name: "daemon:HOST:PID:START" on PostgreSQL, "daemon:PID" on SQLite.
    public var name: String
    public var host: String
    public var pid: Int
    /// Its last heartbeat (PostgreSQL, by the database's clock); on SQLite the report's time while it holds the lock.
    public var lastSeenAt: Date
    /// Grants whose refresh it holds now (claims with a running lease).
    public var grantsClaimed: Int
    /// It beat within one claim lease: a daemon silent for longer may be dead, and its claims are taken over.
    public var alive: Bool

    public init(name: String, host: String, pid: Int, lastSeenAt: Date, grantsClaimed: Int, alive: Bool) {
        self.name = name
        self.host = host
        self.pid = pid
        self.lastSeenAt = lastSeenAt
        self.grantsClaimed = grantsClaimed
        self.alive = alive
    }
}

extension DaemonNode: Encodable {
    enum CodingKeys: String, CodingKey {
        case name, host, pid, lastSeenAt = "last_seen_at", grantsClaimed = "grants_claimed", alive
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(host, forKey: .host)
        try container.encode(pid, forKey: .pid)
        try container.encode(RFC3339.string(lastSeenAt), forKey: .lastSeenAt)
        try container.encode(grantsClaimed, forKey: .grantsClaimed)
        try container.encode(alive, forKey: .alive)
    }
}

extension DaemonNode {
    /// The one daemon of an SQLite database, which holds its instance lock: seen now (it holds
    /// the lock), its claims those of `records` in flight for it within `lease`.
    public static func lockHolder(pid: Int32, host: String, records: [GrantRecord], lease: TimeInterval, now: Date) -> DaemonNode {
        let name = "daemon:\(pid)"
        let claimed = records.count(where: { record in
            guard let owner = record.inFlightOwner, owner.hasPrefix(name + ":"), let since = record.inFlightSince else { return false }
            return now.timeIntervalSince(since) <= lease
        })
        return DaemonNode(name: name, host: host, pid: Int(pid), lastSeenAt: now, grantsClaimed: claimed, alive: true)
    }

    /// This machine's host name, as a daemon writes it in its heartbeat.
    public static func localHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
