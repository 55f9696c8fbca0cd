import Foundation
import Testing
import TokendPostgres
import TokendTestSupport

/// `status` names the daemons (`nodes`): on SQLite the one holding the instance lock; on
/// PostgreSQL every daemon's heartbeat, "running" meaning one beats, over TLS checked against
/// `ca_file` (the TLS-only test server), through the configuration as an administrator writes it.
@Suite("imanage-tokend status: the daemons (nodes), on SQLite and on PostgreSQL over TLS", .serialized)
struct StatusNodesCommandTests {
    static func nodes(_ object: [String: Any]) -> [[String: Any]]? { object["nodes"] as? [[String: Any]] }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `GET /v1/status` of the running daemon.
    static func apiStatus(_ harness: DaemonHarness) async throws -> [String: Any] {
        let text = try await harness.curl(["-sS", "--unix-socket", harness.socket, "http://localhost/v1/status"])
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    @Test("SQLite: nodes is [] while no daemon runs, and the daemon holding the lock (pid, host, now) while it runs; the token API says the same")
    func sqliteNodes() async throws {
        let harness = try await DaemonHarness()
        try await harness.importGrant(["--library", "ACTIVE"])
        #expect(Self.nodes(try await harness.statusJSON())?.isEmpty == true)
        try await harness.startDaemon()
        let pid = try #require(harness.daemon?.processIdentifier)
        for (what, object) in [("status --json", try await harness.statusJSON()), ("GET /v1/status", try await Self.apiStatus(harness))] {
            let nodes = try #require(Self.nodes(object), "\(what): \(object)")
            #expect(nodes.count == 1, "\(what): \(nodes)")
            let node = try #require(nodes.first)
            #expect(node["pid"] as? Int == Int(pid) && node["host"] as? String == Self.hostName(), "\(what): \(node)")
            #expect(node["name"] as? String == "daemon:\(pid)" && node["grants_claimed"] as? Int == 0 && node["alive"] as? Bool == true)
            let seen = try #require((node["last_seen_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) }, "\(what): \(node)")
            #expect(abs(seen.timeIntervalSinceNow) < 30)
        }
        #expect(try await harness.stopDaemon().status == 0)
    }

    @Test("PostgreSQL (verify-full against ca_file): no daemon is 'not running' naming the database (exit 2); a beating daemon is listed; the wrong CA cannot tell (exit 3, says ca_file)",
          .enabled(if: PostgreSQLTestServer.tlsIsPossible, "no PostgreSQL server or openssl here: apt-get install postgresql openssl"))
    func postgresNodes() async throws {
        let (settings, server) = try await PostgreSQLTestServer.newTLSDatabase()
        let tls = try #require(server.tls)
        let harness = try await DaemonHarness()
        let passwordFile = harness.directory.appendingPathComponent("db-password").path
        _ = FileManager.default.createFile(atPath: passwordFile, contents: Data((server.password + "\n").utf8), attributes: [.posixPermissions: 0o600])
        let url = "postgresql://\(settings.url.user)@localhost:\(settings.url.port)/\(settings.url.database)?sslmode=verify-full"
        let sqliteConfig = try String(contentsOfFile: harness.config, encoding: .utf8)
        func configure(caFile: String) throws {
            let text = sqliteConfig.replacingOccurrences(
                of: #"database = "tokend.sqlite""#,
                with: "database = \"\(url)\"\ndatabase_password_file = \"\(passwordFile)\"\nca_file = \"\(caFile)\"")
            try text.write(toFile: harness.config, atomically: true, encoding: .utf8)
        }
        try configure(caFile: tls.caFile)
        try await harness.importGrant(["--library", "ACTIVE"])

        let none = try await harness.tokend(["status"])
        #expect(none.status == 2, "\(none.stdout)\(none.stderr)")
        #expect(none.stdout.hasPrefix("daemons: 0 of 0 alive on postgresql://tokend@localhost:"), "\(none.stdout)")
        #expect(none.stdout.contains("no daemon is running on postgresql://tokend@localhost:\(settings.url.port)/\(settings.url.database)"), "\(none.stdout)")
        let noneJSON = try await harness.statusJSON()
        #expect(noneJSON["attention"] as? String == "critical" && (noneJSON["daemon"] as? [String: Any])?["running"] as? Bool == false)
        #expect(Self.nodes(noneJSON)?.isEmpty == true)

        try await harness.startDaemon()
        let pid = try #require(harness.daemon?.processIdentifier)
        #expect(try await eventually(upTo: 20, every: .milliseconds(200)) {
            Self.nodes(try await harness.statusJSON())?.contains { $0["pid"] as? Int == Int(pid) && $0["alive"] as? Bool == true } == true
        }, "the daemon's heartbeat never showed")
        let running = try await harness.tokend(["status"])
        #expect(running.status == 0, "\(running.stdout)\(running.stderr)")
        #expect(running.stdout.hasPrefix("daemons: 1 of 1 alive on postgresql://"), "\(running.stdout)")
        #expect(running.stdout.contains("alive      \(Self.hostName()) pid \(pid), seen "), "\(running.stdout)")
        for (what, object) in [("status --json", try await harness.statusJSON()), ("GET /v1/status", try await Self.apiStatus(harness))] {
            let node = try #require(Self.nodes(object)?.first, "\(what): \(object)")
            #expect(node["host"] as? String == Self.hostName() && node["pid"] as? Int == Int(pid), "\(what): \(node)")
            #expect((node["name"] as? String)?.hasPrefix("daemon:\(Self.hostName()):\(pid):") == true, "\(what): \(node)")
            #expect(node["grants_claimed"] is Int && node["last_seen_at"] is String && node["alive"] as? Bool == true, "\(what): \(node)")
            #expect((object["daemon"] as? [String: Any])?["running"] as? Bool == true, "\(what)")
        }

        // A clean stop removes its row: no daemon again.
        #expect(try await harness.stopDaemon().status == 0)
        #expect(try await harness.tokend(["status"]).status == 2)

        // Another CA in ca_file: the certificate is refused, it cannot tell, and says what to check.
        try configure(caFile: tls.otherCAFile)
        let wrongCA = try await harness.tokend(["status"])
        #expect(wrongCA.status == 3, "\(wrongCA.stdout)\(wrongCA.stderr)")
        #expect(wrongCA.stderr.contains("ca_file (\(tls.otherCAFile))") && wrongCA.stderr.contains("certificate"), "\(wrongCA.stderr)")
    }
}
