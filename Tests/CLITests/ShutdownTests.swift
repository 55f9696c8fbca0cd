import Foundation
import Testing

/// README: SIGTERM stops new refreshes, gives those in flight 5 s to finish, then exits 0.
@Suite("imanage-tokend run: SIGTERM with a refresh in flight", .serialized)
struct ShutdownTests {
    @Test("a refresh in flight at SIGTERM is let finish and recorded, then the daemon exits 0")
    func refreshInFlightFinishes() async throws {
        // `import` refreshes once itself; the daemon's next refresh comes at half of 4 s.
        let harness = try await DaemonHarness(accessTokenLifetime: 4)
        try await harness.importGrant(["--library", "ACTIVE"])
        // iManage holds that refresh for 3 s, then answers 504 (3 s, not less: on a loaded machine
        // seeing the request arrive, by polling the emulator with curl, can take a second or two).
        try await harness.fault(#"{"endpoint":"token","kind":"hang","seconds":3,"then":"gateway_timeout","count":1}"#)
        let before = try await harness.tokenRequests()
        try await harness.startDaemon()
        try await waitUntil("the daemon's refresh reached iManage", upTo: 10) { try await harness.tokenRequests() > before }
        let signalled = Date()
        let (status, log) = try await harness.stopDaemon()
        let took = Date().timeIntervalSince(signalled)
        #expect(status == 0, "\(log)")
        #expect(took >= 1.0, "exited after \(took) s, before the refresh in flight had its answer")
        #expect(took < 5 + 2, "exited after \(took) s: more than the 5 s grace")
        let library = try #require((try await harness.statusJSON()["libraries"] as? [[String: Any]])?.first)
        #expect((library["last_error"] as? String)?.contains("504") == true, "the outcome of the refresh in flight was not recorded: \(library)")
    }
}

extension DaemonHarness {
    /// How many requests the emulator's token endpoint has had.
    func tokenRequests() async throws -> Int {
        let stats = try await curl([base + "/_emulator/stats"])
        let object = try JSONSerialization.jsonObject(with: Data(stats.utf8)) as? [String: Any]
        return ((object?["endpoints"] as? [String: Any])?["token"] as? [String: Any])?["total"] as? Int ?? 0
    }
}
