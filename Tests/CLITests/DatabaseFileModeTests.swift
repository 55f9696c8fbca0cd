import Foundation
import Testing
import TokendTestSupport

/// The daemon's user is not root (the unit's DynamicUser): file modes bind it as they do not bind
/// root. Runs the binary as uid 65534 with setpriv, so only when the tests run as root.
@Suite("Database files as the service's own user", .enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
struct DatabaseFileModeTests {
    static let nobody: uid_t = 65_534

    /// Found by the fault matrix: `status`, run by root while the database was 0400, left a -shm of
    /// mode 0400; once the database was 0600 again the daemon still failed with "attempt to write a
    /// readonly database". The store now sets its own -wal and -shm back to 0600.
    @Test("a -shm left read-only by an earlier run does not stop the service's user from writing")
    func readOnlySharedMemoryFileIsMended() throws {
        let files = try DaemonDirectory("tokend-mode", forSockets: true, mode: 0o700)  // private to the daemon's user: the API socket needs no group here
        let directory = files.url
        defer { files.remove() }
        files.writeKey()
        let key = files.path("token.key")
        files.writeSecret("secret", "s")
        let config = try files.writeConfiguration(TestConfiguration(
            listen: "127.0.0.1:\(try LocalPort.free())",
            organisations: [TestOrganisation(at: "http://127.0.0.1:9", customerID: nil)]))
        for path in [directory.path, key, config, directory.appendingPathComponent("secret").path] {
            chown(path, Self.nobody, Self.nobody)
        }
        let revoke = ["revoke", "--config", config, "--organisation", "demo", "--library", "ACTIVE"]

        // The daemon, run once as the service's user, makes the database; stopped, it leaves no -shm.
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        daemon.arguments = ["--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--clear-groups", TokendProcess.binary.path,
                            "run", "--config", config]
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        let socket = directory.appendingPathComponent("api.sock").path
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socket) { Thread.sleep(forTimeInterval: 0.05) }
        daemon.terminate()
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("tokend.sqlite").path))

        // What a root `status` leaves when the database was 0400 at that moment.
        let shm = directory.appendingPathComponent("tokend.sqlite-shm").path
        try? FileManager.default.removeItem(atPath: shm)
        _ = FileManager.default.createFile(atPath: shm, contents: nil, attributes: [.posixPermissions: 0o400])
        chown(shm, Self.nobody, Self.nobody)

        let second = try TokendProcess.run(revoke, user: Self.nobody)
        #expect(second.status == 2, "the store could not write: \(second.stderr)")
        #expect(!second.stderr.contains("readonly"), "\(second.stderr)")

        // SQLite removes the -shm when its last connection closes, so its mode is read while a daemon
        // holds the database open: started over a 0400 -shm, the daemon has set it to 0600.
        try? FileManager.default.removeItem(atPath: shm)
        _ = FileManager.default.createFile(atPath: shm, contents: nil, attributes: [.posixPermissions: 0o400])
        chown(shm, Self.nobody, Self.nobody)
        let again = Process()
        again.executableURL = daemon.executableURL
        again.arguments = daemon.arguments
        again.standardError = FileHandle.nullDevice
        try again.run()
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socket) { Thread.sleep(forTimeInterval: 0.05) }
        let openMode = (try? FileManager.default.attributesOfItem(atPath: shm))?[.posixPermissions] as? Int
        again.terminate()
        again.waitUntilExit()
        #expect(again.terminationStatus == 0, "the daemon could not run over a 0400 -shm")
        #expect(openMode == 0o600, "the -shm of the running daemon has mode \(openMode.map { String($0, radix: 8) } ?? "none")")
    }
}
