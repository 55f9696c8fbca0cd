import Foundation
import Testing
import TokendTestSupport

/// `imanage-tokend run` as the README describes it around its listeners and SIGHUP: a reload that
/// needs a restart says so, an organisation removed makes its grants `disabled`; an API socket a
/// live process serves stops a second `run` with exit 1; a web port that cannot be bound leaves
/// the refreshes and the token API running.
@Suite("run: SIGHUP changes, a held API socket, an unbindable web port", .serialized)
struct ReloadAndListenerTests {
    /// The first library's entry of `status --json`, by organisation.
    static func libraryStatus(_ harness: DaemonHarness, organisation: String) async throws -> [String: Any]? {
        let object = try await harness.statusJSON()
        return (object["libraries"] as? [[String: Any]] ?? []).first { $0["organisation"] as? String == organisation }
    }

    @Test("SIGHUP: a [refresh] change is logged as needing a restart; the organisation removed makes its grant disabled; the other goes on")
    func hangupChanges() async throws {
        // Two organisations at one iManage must each name their customer.
        let harness = try await DaemonHarness(accessTokenLifetime: 30, organisationExtra: "customer_id = \"1\"")
        let original = try String(contentsOfFile: harness.config, encoding: .utf8)
        let tables = original.components(separatedBy: "[[organisation]]")
        try #require(tables.count == 2)
        let other = tables[1].replacingOccurrences(of: "name = \"demo\"", with: "name = \"other\"")
        try (original + "\n[[organisation]]" + other).write(toFile: harness.config, atomically: true, encoding: .utf8)
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon()
        #expect(try await eventually(upTo: 10, every: .milliseconds(100)) { try await Self.libraryStatus(harness, organisation: "demo")?["status"] as? String == "authorized" })

        // demo removed, [refresh] changed; a second SIGHUP must not repeat the disabled line.
        let reloaded = tables[0].replacingOccurrences(of: "minimum_interval_seconds = 0.5", with: "minimum_interval_seconds = 2")
            + "[[organisation]]" + other
        #expect(reloaded.contains("minimum_interval_seconds = 2") && !reloaded.contains("\"demo\""))
        try reloaded.write(toFile: harness.config, atomically: true, encoding: .utf8)
        let daemon = try #require(harness.daemon)
        kill(daemon.processIdentifier, SIGHUP)
        let disabled = try await eventually(upTo: 10, every: .milliseconds(100)) {
            try await Self.libraryStatus(harness, organisation: "demo")?["status"] as? String == "disabled"
        }
        #expect(disabled, "the grant of the removed organisation is not disabled")
        #expect(daemon.isRunning)
        let (status, log) = try await harness.stopDaemon()
        #expect(status == 0)
        #expect(log.contains("take effect at the next restart"), "the restart-needing change was not logged as such:\n\(log)")
        #expect(log.contains("[refresh]"))
        #expect(log.contains("demo library ACTIVE: authorized → disabled"), "\(log)")
        #expect(log.contains("configuration reloaded from"))
    }

    @Test("a second run whose api_socket a live daemon serves leaves that socket alone, runs on without its API and says so; the first goes on serving")
    func heldSocket() async throws {
        let harness = try await DaemonHarness(accessTokenLifetime: 30)
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon()
        // Another database (so the database lock is not what stops it), the same socket.
        let second = harness.directory.appendingPathComponent("second.toml").path
        try String(contentsOfFile: harness.config, encoding: .utf8)
            .replacingOccurrences(of: "database = \"tokend.sqlite\"", with: "database = \"second.sqlite\"")
            .write(toFile: second, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = TokendProcess.binary
        process.arguments = ["run", "--config", second]
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let listeners = harness.directory.appendingPathComponent("second.sqlite.listeners").path
        let reported = try await eventually(upTo: 20, every: .milliseconds(100)) { FileManager.default.fileExists(atPath: listeners) }
        #expect(reported, "the second daemon did not report its missing token API")
        let status = try await harness.tokend(["status"], configPath: second)
        #expect(status.status == 1, "status: \(status.stdout) \(status.stderr)")
        #expect(status.stdout.contains("token API"), "\(status.stdout)")
        let token = try await harness.tokend(["token", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(token.status == 0, "the first daemon no longer serves: \(token.stderr)")
        #expect(FileManager.default.fileExists(atPath: harness.socket))
        process.terminate()
        #expect(try await harness.stopDaemon().status == 0)
    }

    /// Whether the log then says the pages are not served is another matter (its wording may change):
    /// what holds is that grants go on being refreshed and the token API answers.
    @Test("a web port that cannot be bound: refreshes go on and the token API answers")
    func unbindableWebPort() async throws {
        let held = try LocalPort(listening: true)
        let harness = try await DaemonHarness(accessTokenLifetime: 2, topLevelExtra: "listen = \"127.0.0.1:\(held.port)\"")
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon()
        let first = try await Self.libraryStatus(harness, organisation: "demo")?["last_refresh_at"] as? String
        // Tokens of 2 s: refreshed about every second; one more refresh within 4 s.
        var seen: Set<String> = first.map { [$0] } ?? []
        let refreshing = try await eventually(upTo: 4, every: .milliseconds(100)) {
            if let last = try await Self.libraryStatus(harness, organisation: "demo")?["last_refresh_at"] as? String { seen.insert(last) }
            return seen.count >= 2
        }
        #expect(refreshing, "refreshes stopped with the web port: \(seen)")
        // Through the token API (tokens of 2 s are below the 5 s `token` hands out, so ask for a refresh).
        let refresh = try await harness.tokend(["refresh", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(refresh.status == 0, "the token API does not answer: \(refresh.stderr)")
        #expect(refresh.stdout.hasPrefix("refreshed library ACTIVE of demo"), "\(refresh.stdout)")
        #expect(harness.daemon?.isRunning == true)
        _ = try await harness.stopDaemon()
        withExtendedLifetime(held) {}
    }

    /// Runs the binary, waiting at most `seconds` for it to exit; `nil` (and killed) when it did not.
    static func runBounded(_ arguments: [String], seconds: Double) async throws -> TokendProcess.Outcome? {
        let process = Process()
        process.executableURL = TokendProcess.binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "JOURNAL_STREAM")
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        guard !process.isRunning else {
            process.interrupt()
            process.terminate()
            return nil
        }
        let outHandle = out.fileHandleForReading, errHandle = err.fileHandleForReading
        return try await offThePool {
            TokendProcess.Outcome(
                status: process.terminationStatus,
                stdout: String(decoding: outHandle.readDataToEndOfFile(), as: UTF8.self),
                stderr: String(decoding: errHandle.readDataToEndOfFile(), as: UTF8.self))
        }
    }
}
