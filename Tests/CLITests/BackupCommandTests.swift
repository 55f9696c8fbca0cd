import Foundation
import Testing

/// `imanage-tokend backup` against a running daemon, and a restored copy with rotating refresh tokens.
@Suite("imanage-tokend backup, and restoring a copy", .serialized)
struct BackupCommandTests {
    /// Token requests the emulator has answered.
    func tokenRequests(_ harness: DaemonHarness) async throws -> Int {
        let stats = try await harness.curl([harness.base + "/_emulator/stats"])
        let object = try JSONSerialization.jsonObject(with: Data(stats.utf8)) as? [String: Any]
        return ((object?["endpoints"] as? [String: Any])?["token"] as? [String: Any])?["total"] as? Int ?? -1
    }

    func waitForTokenRequests(_ harness: DaemonHarness, atLeast count: Int) async throws -> Bool {
        for _ in 0..<200 {
            if try await tokenRequests(harness) >= count { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func mode(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    @Test("a copy taken while the daemon runs; restored after a rotation, the daemon names the spent refresh token")
    func restoredCopyNamesRotatedGrant() async throws {
        let harness = try await DaemonHarness(accessTokenLifetime: 4, emulatorArguments: ["--rotation"])
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon()
        let copy = harness.directory.appendingPathComponent("copy.sqlite").path
        #expect(try await waitForTokenRequests(harness, atLeast: 2), "the daemon never refreshed")

        let backup = try await harness.tokend(["backup", "--to", copy])
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(backup.stdout.contains("backup written to \(copy) (mode 0600): 1 grant, "))
        #expect(backup.stdout.contains("integrity and key checked"))
        #expect(try mode(copy) == 0o600)
        // The daemon goes on and iManage rotates the refresh token again: the copy's is now spent.
        let atBackup = try await tokenRequests(harness)
        #expect(try await waitForTokenRequests(harness, atLeast: atBackup + 1), "no refresh after the backup")
        #expect(try await harness.stopDaemon().status == 0)

        // Restore as the README says: daemon stopped, the copy put back 0600, no stale -wal or -shm.
        let database = harness.directory.appendingPathComponent("tokend.sqlite").path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        try FileManager.default.copyItem(atPath: copy, toPath: database)
        chmod(database, 0o600)
        try await harness.startDaemon()
        #expect(try await harness.waitForStatus("needs_reauth", upTo: 15))
        let status = try await harness.statusJSON()
        let library = try #require((status["libraries"] as? [[String: Any]])?.first)
        let lastError = library["last_error"] as? String ?? ""
        #expect(lastError.contains("restored from a backup taken at"), "\(lastError)")
        #expect(lastError.contains("rotation probably lost"), "\(lastError)")
        let history = try await harness.tokend(["history", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(history.stdout.contains("authorized → needs_reauth"), "\(history.stdout)")
        #expect(history.stdout.contains("restored from a backup taken at"), "\(history.stdout)")
        let log = try await harness.stopDaemon().log
        #expect(log.contains("copy restored from a backup taken at"), "no word at start-up: \(log)")
        #expect(log.contains("restored from a backup"), "\(log)")
    }

    @Test("an existing file is refused (exit 73) unless --force; a wrong key writes nothing (exit 78)")
    func refusals() async throws {
        let harness = try await DaemonHarness()
        try await harness.importGrant(["--library", "ACTIVE"])
        let copy = harness.directory.appendingPathComponent("copy.sqlite").path
        #expect(FileManager.default.createFile(atPath: copy, contents: Data("keep me".utf8)))
        let refused = try await harness.tokend(["backup", "--to", copy])
        #expect(refused.status == 73)
        #expect(refused.stderr.contains("exists already") && refused.stderr.contains("--force"))
        #expect(FileManager.default.contents(atPath: copy) == Data("keep me".utf8))

        let forced = try await harness.tokend(["backup", "--to", copy, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try mode(copy) == 0o600)

        // Another key in key_file: the live database is not copied with it.
        let key = harness.directory.appendingPathComponent("token.key").path
        _ = FileManager.default.createFile(atPath: key, contents: Data(repeating: 9, count: 32), attributes: [.posixPermissions: 0o600])
        let other = harness.directory.appendingPathComponent("other.sqlite").path
        let wrongKey = try await harness.tokend(["backup", "--to", other])
        #expect(wrongKey.status == 78)
        #expect(wrongKey.stderr.contains("key_file is not the key"))
        #expect(!FileManager.default.fileExists(atPath: other))
    }
}
