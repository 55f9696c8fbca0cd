import Foundation
import Testing
import TokendPolicy
import TokendReports
import TokendStore

@Suite("A library whose NRTADMIN membership could not be confirmed is not served")
struct UnconfirmedMembershipTests {
    @Test("unconfirmed for more than twice nrtadmin_check_hours: not_nrtadmin with why; a user grant is not concerned")
    func unconfirmedLibrary() async throws {
        let grants = try GrantsInStates()
        defer { grants.cleanUp() }
        let library = GrantKey.library("ACTIVE", of: "acme"), user = GrantKey.user("BOB", of: "acme")
        try await grants.authorized(library)
        try await grants.authorized(user)
        let rules = StatusRules(nrtadminCheckInterval: 3_600)
        let records = try grants.records()
        let active = try #require(records.first { $0.key == library }), bob = try #require(records.first { $0.key == user })
        // The access token lasts 30 minutes: look while it is valid, and past twice the interval (7,200 s).
        #expect(rules.effectiveStatus(of: active, now: grants.now.addingTimeInterval(1_000)) == .authorized)
        var stale = active
        stale.accessExpiresAt = grants.now.addingTimeInterval(9_000)
        #expect(rules.effectiveStatus(of: stale, now: grants.now.addingTimeInterval(7_100)) == .authorized)
        #expect(rules.effectiveStatus(of: stale, now: grants.now.addingTimeInterval(7_300)) == .notNrtadmin)
        let reason = rules.reason(for: stale, status: .notNrtadmin, now: grants.now.addingTimeInterval(7_300))
        #expect(reason.contains("could not be confirmed since"), "\(reason)")
        #expect(reason.contains("its token is not handed out until a check succeeds"))
        var bobLater = bob
        bobLater.accessExpiresAt = grants.now.addingTimeInterval(9_000)
        #expect(rules.effectiveStatus(of: bobLater, now: grants.now.addingTimeInterval(7_300)) == .authorized)
        // A check that succeeded lifts it.
        stale.nrtadminCheckedAt = grants.now.addingTimeInterval(7_000)
        #expect(rules.effectiveStatus(of: stale, now: grants.now.addingTimeInterval(7_300)) == .authorized)
        let entry = rules.entry(for: stale, organisationEnabled: true, daemon: DaemonState(running: true, pid: 1), now: grants.now.addingTimeInterval(15_000))
        #expect(entry.status == .notNrtadmin)
        #expect(entry.attention == .critical)
    }
}
