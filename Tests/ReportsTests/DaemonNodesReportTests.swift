import Foundation
import Testing
import TokendPolicy
import TokendReports
import TokendStore

/// The daemons in the status report (`nodes`): on PostgreSQL every heartbeat, "running" when one
/// is alive, with the same critical note as a stopped SQLite daemon when none is; on SQLite the
/// lock holder with its claims.
@Suite("status: the daemons of the database (nodes)")
struct DaemonNodesReportTests {
    static let database = "postgresql://tokend@db.example.com:5432/tokend?sslmode=verify-full"

    func report(_ daemon: DaemonState, grants: GrantsInStates) throws -> StatusReport {
        StatusReport(records: try grants.records(), organisations: [("acme", true)], daemon: daemon, now: grants.now)
    }

    @Test("PostgreSQL: nodes carry name, host, pid, last_seen_at (RFC 3339 UTC), grants_claimed and alive; one alive is running")
    func sharedNodes() async throws {
        let grants = try GrantsInStates()
        defer { grants.cleanUp() }
        try await grants.authorized(.library("ACTIVE", of: "acme"))
        let nodes = [
            DaemonNode(name: "daemon:db1:812:1", host: "db1", pid: 812, lastSeenAt: grants.now.addingTimeInterval(-1), grantsClaimed: 3, alive: true),
            DaemonNode(name: "daemon:db2:77:1", host: "db2", pid: 77, lastSeenAt: grants.now.addingTimeInterval(-300), grantsClaimed: 0, alive: false),
        ]
        let daemon = DaemonState.shared(database: Self.database, nodes: nodes, host: "db1")
        #expect(daemon.running && daemon.pid == 812, "this host's live daemon's pid")
        let report = try report(daemon, grants: grants)
        #expect(report.attention == .ok)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.jsonText().utf8)) as? [String: Any])
        let listed = try #require(object["nodes"] as? [[String: Any]])
        #expect(listed.count == 2)
        #expect(Set(listed[0].keys) == ["name", "host", "pid", "last_seen_at", "grants_claimed", "alive"])
        #expect(listed[0]["name"] as? String == "daemon:db1:812:1" && listed[0]["host"] as? String == "db1" && listed[0]["pid"] as? Int == 812)
        #expect(listed[0]["last_seen_at"] as? String == "2027-01-15T07:59:59Z" && listed[0]["grants_claimed"] as? Int == 3)
        #expect(listed[0]["alive"] as? Bool == true && listed[1]["alive"] as? Bool == false)
        let table = report.table(colour: false)
        #expect(table.hasPrefix("daemons: 1 of 2 alive on \(Self.database), imanage-tokend"), "\(table)")
        #expect(table.contains("  alive      db1 pid 812, seen 1s ago, 3 grants claimed\n"), "\(table)")
        #expect(table.contains("  NOT alive  db2 pid 77, last seen 5m ago\n"), "\(table)")

        // Every restart is a new row, and a killed daemon's stays a day: the table shows the few most recent.
        var restarted = [nodes[0]]
        for minutes in 1...5 {
            restarted.append(DaemonNode(
                name: "daemon:db2:\(minutes):1", host: "db2", pid: minutes, lastSeenAt: grants.now.addingTimeInterval(Double(-60 * minutes)),
                grantsClaimed: 0, alive: false))
        }
        let many = try self.report(.shared(database: Self.database, nodes: restarted.reversed(), host: "db1"), grants: grants).table(colour: false)
        #expect(many.hasPrefix("daemons: 1 of 6 alive on"), "\(many)")
        #expect(many.contains("  alive      db1 pid 812, seen 1s ago, 3 grants claimed\n  NOT alive  db2 pid 1, last seen 1m ago\n"
            + "  NOT alive  db2 pid 2, last seen 2m ago\n  NOT alive  db2 pid 3, last seen 3m ago\n  and 2 more not alive"), "\(many)")
    }

    @Test("PostgreSQL: with no node alive the report is critical, like a stopped daemon, and its note names the database")
    func noneAlive() async throws {
        let grants = try GrantsInStates()
        defer { grants.cleanUp() }
        try await grants.authorized(.library("ACTIVE", of: "acme"))
        let stale = DaemonNode(name: "daemon:db2:77:1", host: "db2", pid: 77, lastSeenAt: grants.now.addingTimeInterval(-300), grantsClaimed: 0, alive: false)
        for nodes in [[], [stale]] {
            let report = try report(.shared(database: Self.database, nodes: nodes, host: "db1"), grants: grants)
            #expect(!report.daemon.running && report.attention == .critical && report.attention.exitCode == 2)
            #expect(report.notes.contains { $0.hasPrefix("no daemon is running on \(Self.database)") && $0.contains("systemctl start imanage-tokend") },
                    "\(report.notes)")
            #expect(report.table(colour: false).hasPrefix("daemons: 0 of \(nodes.count) alive on \(Self.database) (NONE running)"))
        }
    }

    @Test("SQLite: nodes is [] with no daemon; the lock holder counts its own live claims only")
    func sqliteNodes() async throws {
        let grants = try GrantsInStates()
        defer { grants.cleanUp() }
        try await grants.authorized(.library("ACTIVE", of: "acme"))
        let stopped = try report(DaemonState(running: false), grants: grants)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stopped.jsonText().utf8)) as? [String: Any])
        #expect((object["nodes"] as? [Any])?.isEmpty == true)

        func record(owner: String?, since: TimeInterval) throws -> GrantRecord {
            var record = try #require(try grants.records().first)
            record.inFlightOwner = owner
            record.inFlightSince = owner == nil ? nil : grants.now.addingTimeInterval(-since)
            return record
        }
        let records = [
            try record(owner: "daemon:812:1795000000", since: 2), try record(owner: "daemon:8120:1", since: 2),
            try record(owner: "daemon:812:1795000000", since: 3600), try record(owner: "cli:812:1", since: 1), try record(owner: nil, since: 0),
        ]
        let node = DaemonNode.lockHolder(pid: 812, host: "here", records: records, lease: 60, now: grants.now)
        #expect(node == DaemonNode(name: "daemon:812", host: "here", pid: 812, lastSeenAt: grants.now, grantsClaimed: 1, alive: true))
    }
}
