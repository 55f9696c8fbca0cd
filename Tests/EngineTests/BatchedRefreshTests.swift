import Foundation
import Testing
import TokendPolicy
@testable import TokendEngine
@testable import TokendStore

/// Grants falling due together are claimed and written together: a durable commit (an fsync,
/// about 300 a second on these disks) carries many of them, not two each.
@Suite("The refresh engine batches what falls due together", .serialized)
struct BatchedRefreshTests {
    @Test("twenty grants due within a fifth of a second: claimed together, far fewer commits than two each")
    func dueTogetherShareCommits() async throws {
        let subjects = (1...20).map { "USER\($0)" }
        let (fixture, _) = try await EngineFixture.start(
            accessTokenLifetime: 600, kind: .user, grants: subjects.map { ("demo", $0) }, startupRate: 100)
        try await fixture.closing {
            let before = fixture.store.commitStatistics
            let refreshed = try await fixture.wait(upTo: 20) {
                try fixture.store.records().allSatisfy { $0.lastAttemptAt != nil && $0.inFlightSince == nil }
            }
            #expect(refreshed, "not every grant was refreshed")
            let after = fixture.store.commitStatistics
            let writes = after.writes - before.writes
            let commits = after.commits - before.commits
            // A claim and an outcome for each grant.
            #expect(writes >= 38, "\(writes) writes")
            // Measured: 33 commits without the coalescing window (nearly two a refresh), 17 with it (the
            // claims share one or two; the outcomes return staggered, so they share fewer).
            #expect(commits <= 24, "\(commits) durable commits for \(writes) writes of 20 refreshes")
        }
    }
}
