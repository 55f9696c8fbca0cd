import Foundation
import Testing

@Suite("imanage-tokend status: every exit code, table and JSON, with and without the daemon", .serialized)
struct StatusCommandTests {
    @Test("3 without a database or with a bad configuration; 2 when nobody refreshes; 0, 1, 2 as grants change; 3 with the wrong key")
    func exitCodes() async throws {
        let harness = try await DaemonHarness(accessTokenLifetime: 60)

        let noDatabase = try await harness.tokend(["status"])
        #expect(noDatabase.status == 3)
        #expect(noDatabase.stderr.contains("could not tell") && noDatabase.stderr.contains("no such file"))
        let noDatabaseJSON = try await harness.tokend(["status", "--json"])
        #expect(noDatabaseJSON.status == 3)
        let unknown = try #require(try JSONSerialization.jsonObject(with: Data(noDatabaseJSON.stdout.utf8)) as? [String: Any])
        #expect(unknown["attention"] as? String == "unknown")
        #expect((unknown["libraries"] as? [Any])?.isEmpty == true && (unknown["users"] as? [Any])?.isEmpty == true
                && (unknown["organisations"] as? [Any])?.isEmpty == true,
                "the contract's shape, with empty arrays, when it could not tell: \(noDatabaseJSON.stdout)")
        let badConfig = try TokendProcess.run(["status", "--config", harness.directory.appendingPathComponent("missing.toml").path])
        #expect(badConfig.status == 3)

        let imported = try await harness.importGrant(["--library", "ACTIVE"])
        #expect(imported.stdout.contains("the daemon is not running; it schedules this grant when it starts"))
        let stopped = try await harness.tokend(["status"])
        #expect(stopped.status == 2, "\(stopped.stdout)")
        #expect(stopped.stdout.hasPrefix("daemon: NOT running"))
        #expect(stopped.stdout.contains("the daemon is not running"))

        try await harness.startDaemon()
        let healthy = try await harness.tokend(["status"])
        #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
        #expect(healthy.stdout.contains("daemon: running (pid \(harness.daemon?.processIdentifier ?? 0))"))
        let row = try #require(healthy.stdout.split(separator: "\n").first { $0.hasPrefix("demo") })
        #expect(row.contains("library ACTIVE") && row.contains("authorized") && row.contains("alice@example.com"))
        #expect(!healthy.stdout.contains("\u{1B}"), "colour on a pipe")
        let json = try await harness.statusJSON()
        #expect(json["attention"] as? String == "ok")
        let library = try #require((json["libraries"] as? [[String: Any]])?.first)
        #expect(library["organisation"] as? String == "demo" && library["id"] as? String == "ACTIVE")
        #expect((library["authorized_by"] as? [String: Any])?["email"] as? String == "alice@example.com")

        // A passing failure: retrying, a warning.
        try await harness.fault(#"{"endpoint":"token","kind":"server_error","status":503}"#)
        let failed = try await harness.tokend(["refresh", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(failed.status == 1, "\(failed.stdout)\(failed.stderr)")
        #expect(failed.stderr.contains("retrying") && failed.stderr.contains("503"))
        let warning = try await harness.tokend(["status"])
        #expect(warning.status == 1, "\(warning.stdout)")
        #expect(warning.stdout.contains("retrying"))

        // Healed by a refresh on request; then the user is revoked at iManage: a person must act.
        try await harness.clearFaults()
        let healed = try await harness.tokend(["refresh", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(healed.status == 0, "\(healed.stderr)")
        #expect(healed.stdout.contains("refreshed library ACTIVE of demo: authorized"))
        #expect(try await harness.tokend(["status"]).status == 0)
        _ = try await harness.curl(["-X", "POST", harness.base + "/_emulator/users/ALICE/revoke"])
        let dead = try await harness.tokend(["refresh", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(dead.status == 1)
        let critical = try await harness.tokend(["status"])
        #expect(critical.status == 2)
        #expect(critical.stdout.contains("needs_reauth") && critical.stdout.contains("must authorise again"))
        #expect(try await harness.tokend(["status", "--organisation", "demo", "--library", "OTHER"]).status == 2)
        // A misspelt organisation is not "all is well" to a monitoring check.
        let misspelt = try await harness.tokend(["status", "--organisation", "dmeo", "--library", "ACTIVE"])
        #expect(misspelt.status == 3)
        #expect(misspelt.stderr.contains("no organisation dmeo"))

        // The wrong key: it cannot tell.
        let stop = try await harness.stopDaemon()
        #expect(stop.status == 0)
        _ = FileManager.default.createFile(
            atPath: harness.directory.appendingPathComponent("token.key").path,
            contents: Data((0..<32).map { _ in UInt8.random(in: 0...255) }), attributes: [.posixPermissions: 0o600])
        let wrongKey = try await harness.tokend(["status"])
        #expect(wrongKey.status == 3)
        #expect(wrongKey.stderr.contains("key_file is not the key"))
    }

    @Test("history: status changes newest last, filters, --since, JSON; bad --since is refused")
    func history() async throws {
        let harness = try await DaemonHarness()
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.importGrant(["--user", "bob@example.com"], user: "BOB")
        try await harness.startDaemon()
        _ = try await harness.tokend(["revoke", "--organisation", "demo", "--library", "ACTIVE"])
        try await harness.stopDaemon()

        let all = try await harness.tokend(["history"])
        #expect(all.status == 0)
        let lines = all.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("TIME") == true)
        #expect(lines.last?.contains("authorized → unauthorized") == true, "newest last: \(all.stdout)")
        #expect(lines.last?.contains("library ACTIVE") == true && lines.last?.contains("revoked") == true)

        let library = try await harness.tokend(["history", "--library", "ACTIVE", "--json"])
        #expect(library.status == 0, "\(library.stderr)")
        let events = try #require((try JSONSerialization.jsonObject(with: Data(library.stdout.utf8)) as? [String: Any])?["events"] as? [[String: Any]])
        #expect(events.map { $0["status"] as? String } == ["authorized", "unauthorized"])
        #expect(events.allSatisfy { $0["id"] as? String == "ACTIVE" })
        let user = try await harness.tokend(["history", "--user", "bob@example.com", "--json"])
        let userEvents = try #require((try JSONSerialization.jsonObject(with: Data(user.stdout.utf8)) as? [String: Any])?["events"] as? [[String: Any]])
        #expect(userEvents.map { $0["id"] as? String } == ["BOB"])
        #expect(try await harness.tokend(["history", "--since", "1h"]).stdout.split(separator: "\n").count == 4)
        #expect(try await harness.tokend(["history", "--since", "2099-01-01T00:00:00Z"]).stdout == "no status changes match\n")
        #expect(try await harness.tokend(["history", "--organisation", "other"]).stdout == "no status changes match\n")
        let bad = try await harness.tokend(["history", "--since", "last tuesday"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("expected an age such as"))
    }
}
