import Foundation
import IManageEmulator
import Testing
import TokendTestSupport

/// What a failover run asks of the emulator: of the grants revoked for reuse of a rotated token,
/// which were refreshed by two holders (the successor token was presented too) and which after a
/// lost answer (nobody ever presented it: the client died before saving it); and how many token
/// requests of one grant chain overlapped.
@Suite("Emulator: reuse after a lost answer or by a second refresher, overlapping refreshes")
struct ReuseClassificationTests {
    static func rotatingWithoutGrace() -> EmulatorConfiguration {
        var configuration = EmulatorConfiguration.demo
        configuration.rotatesRefreshTokens = true
        configuration.rotationGraceSeconds = 0
        return configuration
    }

    @Test("a retry with the old token after the rotation's answer was lost is a reuse after a lost answer")
    func lostAnswer() async throws {
        try await withEmulator(Self.rotatingWithoutGrace()) { h in
            let original = try #require(try await h.authorizedTokens()["refresh_token"] as? String)
            // The rotation answers a successor, which the client "crashed" before saving: never presented.
            #expect(try await h.refresh(original).status == 200)
            #expect(try await h.refresh(original).oauthError == "invalid_grant")
            let summary = try await h.get("/_emulator/grants").json()
            #expect(summary["reuse_revocations"] as? Int == 1)
            #expect(summary["reuse_after_lost_answer"] as? Int == 1)
            #expect(summary["reuse_by_second_refresher"] as? Int == 0)
            #expect(summary["overlapping_refreshes"] as? Int == 0)
        }
    }

    @Test("a stale token presented by a second holder is a second refresher's reuse, even when the first presents its successor only afterwards")
    func secondRefresher() async throws {
        try await withEmulator(Self.rotatingWithoutGrace()) { h in
            // Holder A refreshes on and on; holder B still has the first token and presents it.
            let first = try #require(try await h.authorizedTokens()["refresh_token"] as? String)
            let successor = try #require(try await h.refresh(first).json()["refresh_token"] as? String)
            #expect(try await h.refresh(successor).status == 200)
            #expect(try await h.refresh(first).oauthError == "invalid_grant")
            #expect(h.emulator.grantSummary().reuseBySecondRefresher == 1)
            #expect(h.emulator.grantSummary().reuseAfterLostAnswer == 0)

            // Another chain: B's stale token arrives before A presents its successor (at A's next
            // refresh, refused: the chain is revoked). At first it looks like a lost answer; once
            // A presents the successor, it is a second refresher's.
            let other = try #require(try await h.authorizedTokens()["refresh_token"] as? String)
            let saved = try #require(try await h.refresh(other).json()["refresh_token"] as? String)
            #expect(try await h.refresh(other).oauthError == "invalid_grant")
            #expect(h.emulator.grantSummary().reuseAfterLostAnswer == 1)
            #expect(try await h.refresh(saved).oauthError == "invalid_grant")
            let summary = h.emulator.grantSummary()
            #expect(summary.reuseRevocations == 2 && summary.reuseBySecondRefresher == 2 && summary.reuseAfterLostAnswer == 0)
        }
    }

    @Test("a token request of a chain while another of it is still being answered is an overlapping refresh; other chains and later requests are not")
    func overlappingRefreshes() async throws {
        try await withEmulator(Self.rotatingWithoutGrace()) { h in
            let first = try #require(try await h.authorizedTokens()["refresh_token"] as? String)
            let other = try #require(try await h.authorizedTokens()["refresh_token"] as? String)
            // The first request is held by a hang: in flight until the fault is cleared.
            try h.emulator.addFault(Fault(.hang(seconds: 30, then: .gatewayTimeout), on: .token, count: 1))
            async let held = h.refresh(first)
            #expect(try await eventually(upTo: 10) { h.emulator.stats().count(.token, .faultHang) == 1 })
            let otherAnswer = try await h.refresh(other)
            #expect(otherAnswer.status == 200, "another chain: no overlap")
            #expect(h.emulator.grantSummary().overlappingRefreshes == 0)
            #expect(try await h.refresh(first).status == 200, "the same chain while the first is held")
            #expect(h.emulator.grantSummary().overlappingRefreshes == 1)
            h.emulator.clearFaults()
            #expect(try await held.status == 504)
            // One after the other is no overlap.
            let next = try #require(try otherAnswer.json()["refresh_token"] as? String)
            let after = try #require(try await h.refresh(next).json()["refresh_token"] as? String)
            #expect(try await h.refresh(after).status == 200)
            #expect(h.emulator.grantSummary().overlappingRefreshes == 1)
        }
    }
}
