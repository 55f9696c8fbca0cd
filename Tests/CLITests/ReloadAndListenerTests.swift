import Foundation
import Testing

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

    /// Polls until `condition` holds, every 100 ms, for at most `seconds`.
    static func eventually(upTo seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
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
        #expect(try await Self.eventually(upTo: 10) { try await Self.libraryStatus(harness, organisation: "demo")?["status"] as? String == "authorized" })

        // demo removed, [refresh] changed; a second SIGHUP must not repeat the disabled line.
        let reloaded = tables[0].replacingOccurrences(of: "minimum_interval_seconds = 0.5", with: "minimum_interval_seconds = 2")
            + "[[organisation]]" + other
        #expect(reloaded.contains("minimum_interval_seconds = 2") && !reloaded.contains("\"demo\""))
        try reloaded.write(toFile: harness.config, atomically: true, encoding: .utf8)
        let daemon = try #require(harness.daemon)
        kill(daemon.processIdentifier, SIGHUP)
        let disabled = try await Self.eventually(upTo: 10) {
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

    @Test("a second run whose api_socket a live daemon serves exits 1 naming the socket; the first goes on serving")
    func heldSocket() async throws {
        let harness = try await DaemonHarness(accessTokenLifetime: 30)
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon()
        // Another database (so the database lock is not what stops it), the same socket.
        let second = harness.directory.appendingPathComponent("second.toml").path
        try String(contentsOfFile: harness.config, encoding: .utf8)
            .replacingOccurrences(of: "database = \"tokend.sqlite\"", with: "database = \"second.sqlite\"")
            .write(toFile: second, atomically: true, encoding: .utf8)
        let outcome = try await Self.runBounded(["run", "--config", second], seconds: 20)
        let exited = try #require(outcome, "the second run did not stop within 20 s")
        #expect(exited.status == 1, "\(exited.stderr)")
        #expect(exited.stderr.contains(harness.socket), "\(exited.stderr)")
        let token = try await harness.tokend(["token", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(token.status == 0, "the first daemon no longer serves: \(token.stderr)")
        #expect(FileManager.default.fileExists(atPath: harness.socket))
        #expect(try await harness.stopDaemon().status == 0)
    }

    /// Whether the log then says the pages are not served is another matter (its wording may change):
    /// what holds is that grants go on being refreshed and the token API answers.
    @Test("a web port that cannot be bound: refreshes go on and the token API answers")
    func unbindableWebPort() async throws {
        let held = try HeldPort()
        let harness = try await DaemonHarness(accessTokenLifetime: 2)
        try Self.setListen("127.0.0.1:\(held.port)", in: harness.config)
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon()
        let first = try await Self.libraryStatus(harness, organisation: "demo")?["last_refresh_at"] as? String
        // Tokens of 2 s: refreshed about every second; one more refresh within 4 s.
        var seen: Set<String> = first.map { [$0] } ?? []
        let refreshing = try await Self.eventually(upTo: 4) {
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

    /// Sets the top-level `listen` of the configuration at `path` (replacing one already there).
    static func setListen(_ address: String, in path: String) throws {
        var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
        lines.removeAll { $0.trimmingCharacters(in: .whitespaces).hasPrefix("listen =") }
        try (["listen = \"\(address)\""] + lines).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
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

/// A TCP port on 127.0.0.1 the kernel chose, bound and listening for as long as this object lives,
/// so that no one else can bind it.
final class HeldPort {
    let port: Int
    private let descriptor: CInt

    init() throws {
        let descriptor = socket(AF_INET, CInt(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound, listen(descriptor, 1) == 0 else {
            close(descriptor)
            throw POSIXError(.EADDRINUSE)
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}
