import Foundation
import Testing
import TokendTestSupport

@Suite("imanage-tokend run as a process", .serialized)
struct RunCommandTests {
    /// A minimal valid configuration in a fresh directory: no organisations, a new database.
    func minimalConfiguration() throws -> URL {
        let files = try DaemonDirectory("tokend-run", mode: 0o700)  // private to the daemon's user: the API socket needs no group here
        files.writeKey()
        try files.writeConfiguration(TestConfiguration(listen: "127.0.0.1:\(try LocalPort.free())"))
        let directory = files.url
        return directory
    }

    @Test("a second run on the same database exits 75 naming the first; SIGTERM stops the first with 0")
    func singleInstanceAndCleanStop() async throws {
        let directory = try minimalConfiguration()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("tokend.toml").path

        let (first, firstErr) = try TokendProcess.launch(["run", "--config", config])
        let database = directory.appendingPathComponent("tokend.sqlite").path
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: database + ".lock") {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(300))

        let second = try TokendProcess.run(["run", "--config", config])
        #expect(second.status == 75)
        #expect(second.stderr.contains("already using this database"))
        #expect(second.stderr.contains("pid \(first.processIdentifier)"))

        first.terminate()  // SIGTERM
        first.waitUntilExit()
        #expect(first.terminationReason == .exit)
        #expect(first.terminationStatus == 0)
        let log = String(decoding: firstErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("imanage-tokend started"))
        #expect(log.contains("stopping"))
        let mode = try FileManager.default.attributesOfItem(atPath: database)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// Found by the fault matrix: a SIGTERM between the socket appearing and the signal handler
    /// being installed killed the daemon outright (terminated by signal 15, nothing logged).
    @Test("SIGTERM while the daemon is still starting stops it cleanly with 0 once it is up")
    func stopWhileStarting() async throws {
        let directory = try minimalConfiguration()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (daemon, err) = try TokendProcess.launch(["run", "--config", directory.appendingPathComponent("tokend.toml").path])
        // As early as anything outside can see: the lock file appears before the store opens.
        let lock = directory.appendingPathComponent("tokend.sqlite.lock").path
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: lock) { try await Task.sleep(for: .milliseconds(5)) }
        daemon.terminate()
        daemon.waitUntilExit()
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(daemon.terminationReason == .exit, "killed by the signal instead of stopping: \(log)")
        #expect(daemon.terminationStatus == 0)
        #expect(log.contains("stopping (signal 15)"))
    }

    @Test("SIGHUP with a broken file keeps the running configuration; with a good one reloads; then SIGTERM exits 0")
    func reloadOnHangup() async throws {
        let directory = try minimalConfiguration()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configURL = directory.appendingPathComponent("tokend.toml")
        let good = try String(contentsOf: configURL, encoding: .utf8)
        let (daemon, stderr) = try TokendProcess.launch(["run", "--config", configURL.path])
        // Started: the API socket exists (created just before READY=1); the SIGHUP handler follows at once.
        let socket = directory.appendingPathComponent("api.sock").path
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socket) { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .milliseconds(300))

        try (good + "\nunknown_key = 1\n").write(to: configURL, atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        #expect(daemon.isRunning, "a bad configuration at SIGHUP must not stop the daemon")
        try good.write(to: configURL, atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        daemon.terminate()
        daemon.waitUntilExit()
        let log = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(daemon.terminationStatus == 0)
        #expect(log.contains("configuration reload refused, the running configuration stays"))
        #expect(log.contains("unknown_key"))
        #expect(log.contains("configuration reloaded from"))
    }
}
