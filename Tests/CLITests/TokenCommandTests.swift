import Foundation
import Testing

@Suite("imanage-tokend token, refresh, revoke and import against a running daemon", .serialized)
struct TokenCommandTests {
    @Test("token prints a valid token iManage accepts; an expired grant exits 1 with why; no daemon exits 69")
    func token() async throws {
        // Tokens of 10 s: a token with less than 5 s left is never handed out.
        let harness = try await DaemonHarness(accessTokenLifetime: 10)
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon()

        let valid = try await harness.tokend(["token", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(valid.status == 0, "\(valid.stderr)")
        let token = valid.stdout.trimmingCharacters(in: .newlines)
        #expect(!token.isEmpty && !token.contains(" ") && valid.stdout == token + "\n", "token must print only the token")
        let discovery = try await harness.curl(["-H", "X-Auth-Token: \(token)", harness.base + "/api"])
        #expect(discovery.contains("\"ALICE\""), "iManage refused the printed token: \(discovery)")
        let missing = try await harness.tokend(["token", "--organisation", "demo", "--library", "NOPE"])
        #expect(missing.status == 2 && missing.stdout.isEmpty)

        // iManage keeps failing; the access token runs out: no stale token, the status and why.
        try await harness.fault(#"{"endpoint":"token","kind":"server_error","status":503}"#)
        #expect(try await harness.waitForStatus("expired", upTo: 20))
        let expired = try await harness.tokend(["token", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(expired.status == 1)
        #expect(expired.stdout.isEmpty)
        #expect(expired.stderr.contains("status expired") && expired.stderr.contains("ran out"))

        #expect(try await harness.stopDaemon().status == 0)
        #expect(!FileManager.default.fileExists(atPath: harness.socket), "the socket outlived the daemon")
        let down = try await harness.tokend(["token", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(down.status == 69)
        #expect(down.stderr.contains("the daemon is not running"))
        #expect(try await harness.tokend(["refresh", "--organisation", "demo", "--library", "ACTIVE"]).status == 69)
    }

    @Test("revoke through the daemon logs the journal fields; without a daemon it writes the database; import tells a running daemon")
    func revokeAndImport() async throws {
        let harness = try await DaemonHarness(accessTokenLifetime: 4)
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon()

        // import while the daemon runs: it is scheduled at once, and refreshed with no SIGHUP.
        let imported = try await harness.importGrant(["--user", "bob@example.com"], user: "BOB")
        #expect(imported.stdout.contains("the running daemon has scheduled it"))
        func lastRefresh() async throws -> String? {
            (try await harness.statusJSON(["--user", "BOB"])["users"] as? [[String: Any]])?.first?["last_refresh_at"] as? String
        }
        // The import's own refresh; the daemon's comes about 2 s later (half of 4 s), so the second differs.
        let byImport = try #require(try await lastRefresh())
        var refreshedByDaemon = false
        for _ in 0..<60 {
            if let last = try await lastRefresh(), last != byImport { refreshedByDaemon = true; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(refreshedByDaemon, "the daemon did not refresh the imported grant")

        let revoked = try await harness.tokend(["revoke", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(revoked.stdout.contains("revoked library ACTIVE of demo (was authorized)"))
        #expect(try await harness.tokend(["revoke", "--organisation", "demo", "--library", "ACTIVE"]).status == 2)
        let status = try await harness.tokend(["status", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(status.status == 2 && status.stdout.contains("unauthorized"))
        #expect(try await harness.tokend(["token", "--organisation", "demo", "--library", "ACTIVE"]).status == 2)

        let stop = try await harness.stopDaemon()
        #expect(stop.status == 0)
        // The journal fields of the contract, as key=value on stderr outside systemd.
        let revokeLine = try #require(stop.log.split(separator: "\n").first { $0.contains("→ unauthorized") })
        #expect(revokeLine.contains("TOKEND_ORGANISATION=demo") && revokeLine.contains("TOKEND_LIBRARY=ACTIVE")
            && revokeLine.contains("TOKEND_STATUS=unauthorized"))

        let direct = try await harness.tokend(["revoke", "--organisation", "demo", "--user", "bob@example.com"])
        #expect(direct.status == 0, "\(direct.stderr)")
        #expect(direct.stdout.contains("revoked user bob@example.com of demo"))
        let history = try await harness.tokend(["history", "--user", "BOB"])
        #expect(history.stdout.split(separator: "\n").last?.contains("authorized → unauthorized") == true)
        #expect(!stop.log.contains("rt-") && !history.stdout.contains("access_token"))
    }
}
