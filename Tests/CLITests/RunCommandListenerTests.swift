import Foundation
import Testing
import TokendReports
import TokendTestSupport
@testable import TokendCLI

/// A listener the daemon cannot open, the demo's refresh lines, and the words of start-up, revoke and refresh.
@Suite("imanage-tokend run: a listener it cannot open, the refresh lines, the words", .serialized)
struct RunCommandListenerTests {
    /// Waits for `DATABASE.listeners`, which the daemon writes once its listeners are tried.
    private func waitForListenersFile(_ harness: DaemonHarness) async throws -> Bool {
        let path = harness.directory.appendingPathComponent("tokend.sqlite.listeners").path
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: path) { try await Task.sleep(for: .milliseconds(50)) }
        return FileManager.default.fileExists(atPath: path)
    }

    @Test("a taken web port: the daemon refreshes on, status notes it and exits 1, the journal says it once")
    func webPortTaken() async throws {
        let taken = try LocalPort(listening: true)
        let harness = try await DaemonHarness(accessTokenLifetime: 60, topLevelExtra: "listen = \"127.0.0.1:\(taken.port)\"")
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon()
        #expect(try await waitForListenersFile(harness))

        let status = try await harness.tokend(["status"])
        #expect(status.status == 1, "\(status.stdout)\(status.stderr)")
        #expect(status.stdout.contains("note: web pages not served: cannot listen on 127.0.0.1:\(taken.port)"), "\(status.stdout)")
        #expect(status.stdout.contains("grants are still refreshed"))
        let json = try await harness.statusJSON()
        #expect(json["attention"] as? String == "warning")
        let missing = try #require((json["daemon"] as? [String: Any])?["missing_listeners"] as? [[String: Any]])
        #expect(missing.map { $0["listener"] as? String } == ["web pages"])
        #expect(missing.first?["address"] as? String == "127.0.0.1:\(taken.port)")
        // The grant is still refreshed on request: the token API serves.
        let refreshed = try await harness.tokend(["refresh", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(refreshed.status == 0, "\(refreshed.stderr)")

        let (exit, log) = try await harness.stopDaemon()
        #expect(exit == 0)
        #expect(log.components(separatedBy: "web pages not served").count == 2, "said once in the journal: \(log)")
        #expect(log.contains("started: version \(TokendVersion.current), 1 grant scheduled, 0 overdue first; 1 organisation; web pages NOT served"), "\(log)")
        #expect(!FileManager.default.fileExists(atPath: harness.directory.appendingPathComponent("tokend.sqlite.listeners").path),
                "the file outlived the daemon")
        let after = try await harness.tokend(["status"])
        #expect(!after.stdout.contains("web pages"), "a stopped daemon's missing listener is not reported")
    }

    @Test("the STATUS= line (systemctl status) names each missing listener")
    func statusLineNamesTheMissingListener() {
        let pages = MissingListener(listener: "web pages", address: "127.0.0.1:8080", reason: "Address already in use")
        #expect(RunCommand.startedSummary(scheduled: 1, overdue: 0, organisations: 1, missing: [pages])
            == "1 grant scheduled, 0 overdue first; 1 organisation; web pages NOT served (cannot listen on 127.0.0.1:8080)")
        #expect(RunCommand.startedSummary(scheduled: 2, overdue: 1, organisations: 3, missing: [])
            == "2 grants scheduled, 1 overdue first; 3 organisations")
    }

    @Test("an API socket that cannot be opened: the same rule, the daemon runs on and status says so")
    func apiSocketUnusable() async throws {
        let harness = try await DaemonHarness(accessTokenLifetime: 60)
        // A regular file where the socket goes: never removed, never listened on.
        try Data("not a socket".utf8).write(to: URL(fileURLWithPath: harness.socket))
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon()
        #expect(try await waitForListenersFile(harness))
        #expect(harness.daemon?.isRunning == true, "an API socket failure must not stop the refreshes")

        let status = try await harness.tokend(["status"])
        #expect(status.status == 1, "\(status.stdout)\(status.stderr)")
        #expect(status.stdout.contains("note: token API not served: cannot listen on \(harness.socket)"), "\(status.stdout)")
        let (exit, log) = try await harness.stopDaemon()
        #expect(exit == 0)
        #expect(log.components(separatedBy: "token API not served").count == 2, "\(log)")
    }

    @Test("--log-each-refresh logs one info line per refresh; without it, none at info")
    func refreshLines() async throws {
        let harness = try await DaemonHarness(accessTokenLifetime: 4)
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon(["--log-each-refresh"])
        try await Task.sleep(for: .seconds(3))
        let (_, loud) = try await harness.stopDaemon()
        let lines = loud.split(separator: "\n").filter { $0.contains("refreshed library ACTIVE of demo, next in ") }
        #expect(!lines.isEmpty, "\(loud)")
        #expect(lines.allSatisfy { $0.contains("info") && $0.contains("TOKEND_LIBRARY=ACTIVE") }, "\(lines)")

        try await harness.startDaemon()
        try await Task.sleep(for: .seconds(3))
        let (_, quiet) = try await harness.stopDaemon()
        #expect(quiet.contains("imanage-tokend started"))
        #expect(!quiet.contains("refreshed library ACTIVE"), "routine refreshes must stay at debug by default: \(quiet)")
    }

    @Test("revoke by an administrator logs at notice; refresh of a missing grant says 'no grant' once")
    func revokeAtNoticeAndWords() async throws {
        let harness = try await DaemonHarness(accessTokenLifetime: 60)
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon()
        let missing = try await harness.tokend(["refresh", "--organisation", "demo", "--library", "NOPE"])
        #expect(missing.status == 2)
        #expect(missing.stderr.components(separatedBy: "no grant").count == 2, "\(missing.stderr)")
        #expect(try await harness.tokend(["revoke", "--organisation", "demo", "--library", "ACTIVE"]).status == 0)
        let (_, log) = try await harness.stopDaemon()
        let line = try #require(log.split(separator: "\n").first { $0.contains("revoked by an administrator") }, "\(log)")
        #expect(line.contains("notice") && !line.contains("error"), "\(line)")
    }

    @Test("status --json on an error has every key of the report")
    func couldNotTellHasEveryKey() async throws {
        let harness = try await DaemonHarness(accessTokenLifetime: 60)
        let outcome = try await harness.tokend(["status", "--json"])  // no database yet
        #expect(outcome.status == 3)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        for key in ["attention", "generated_at", "daemon", "notes", "organisations", "libraries", "users"] {
            #expect(object[key] != nil, "no \(key): \(outcome.stdout)")
        }
        #expect((object["daemon"] as? [String: Any])?["running"] as? Bool == false)
        #expect((object["notes"] as? [String])?.first?.contains("could not tell") == true)
    }
}
