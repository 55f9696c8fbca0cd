import Foundation
import Testing

/// README: `status` exits 3 ("could not tell") on an unreadable database, with the contract's shape in JSON.
@Suite("imanage-tokend status over a database it cannot read", .serialized)
struct UnreadableDatabaseTests {
    @Test("a file that is no SQLite database: status exits 3, names the database, and the JSON keeps its empty arrays")
    func notADatabase() async throws {
        let harness = try await DaemonHarness(accessTokenLifetime: 60)
        let database = harness.directory.appendingPathComponent("tokend.sqlite").path
        _ = FileManager.default.createFile(
            atPath: database, contents: Data(repeating: 0x5A, count: 8192), attributes: [.posixPermissions: 0o600])
        let table = try await harness.tokend(["status"])
        #expect(table.status == 3, "\(table.stdout)\(table.stderr)")
        #expect(table.stderr.contains("could not tell") && table.stderr.contains(database), "\(table.stderr)")
        let json = try await harness.tokend(["status", "--json"])
        #expect(json.status == 3)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["attention"] as? String == "unknown")
        #expect((object["libraries"] as? [Any])?.isEmpty == true && (object["users"] as? [Any])?.isEmpty == true)
    }
}
