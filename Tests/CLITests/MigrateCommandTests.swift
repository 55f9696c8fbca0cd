import Foundation
import Testing

/// `imanage-tokend migrate`: what it refuses before touching anything (the copy itself is tested
/// against a real PostgreSQL in StoreTests' PostgresStoreTests).
@Suite("imanage-tokend migrate", .serialized)
struct MigrateCommandTests {
    @Test("refuses while a daemon holds the SQLite database, and explains a URL with a password or no such file")
    func refusals() async throws {
        let harness = try await DaemonHarness()
        try await harness.importGrant(["--library", "ACTIVE"])
        let database = harness.directory.appendingPathComponent("tokend.sqlite").path
        let target = "postgresql://tokend@127.0.0.1:9/tokend?sslmode=disable"
        try await harness.startDaemon()
        let held = try TokendProcess.run(["migrate", "--from", database, "--to", target])
        #expect(held.status == 75, "\(held.stderr)")
        #expect(held.stderr.contains("already using this database") && held.stderr.contains("stop it"), "\(held.stderr)")
        #expect(try await harness.stopDaemon().status == 0)

        let withPassword = try TokendProcess.run(["migrate", "--from", database, "--to", "postgresql://tokend:hunter2@db.example.com/tokend"])
        #expect(withPassword.status == 78)
        #expect(withPassword.stderr.contains("database_password_file") && !withPassword.stderr.contains("hunter2"), "\(withPassword.stderr)")
        let missing = try TokendProcess.run(["migrate", "--from", database + ".nothing", "--to", target])
        #expect(missing.status == 78 && missing.stderr.contains("no such file"), "\(missing.stderr)")
        // With the daemon stopped, it goes as far as the server (none listens on port 9) and says so.
        let unreachable = try TokendProcess.run(["migrate", "--from", database, "--to", target])
        #expect(unreachable.status == 1 && unreachable.stderr.contains("postgresql://tokend@127.0.0.1:9/tokend"), "\(unreachable.stderr)")
    }
}
