import Foundation
import IManageEmulator
import Testing
import TokendPolicy
import TokendStore
import TokendTestSupport
@testable import TokendEngine

@Suite("Refresh on request, revoke, and scheduling a grant stored by another process", .serialized)
struct RefreshRequestTests {
    let key = GrantKey.library("ACTIVE", of: "demo")

    /// On the engine's injected clock: the minimum interval and the backoff's start-over are checked
    /// at the moments they are about, with no waiting for them to pass.
    @Test("requestRefresh: at once, or deferred to the minimum interval; the backoff starts over")
    func requestRefresh() async throws {
        let clock = TestClock(Date())
        let (fixture, _) = try await EngineFixture.start(
            accessTokenLifetime: 600, minimumInterval: 2, grants: [("demo", "ACTIVE")], clock: clock)
        let refreshedNow = { (fixture: EngineFixture) in
            try fixture.store.record(for: key)?.lastRefreshAt.map { abs($0.timeIntervalSince(clock.now)) < 0.001 } == true
        }
        let attemptedNow = { (fixture: EngineFixture) in
            try fixture.store.record(for: key)?.lastAttemptAt.map { abs($0.timeIntervalSince(clock.now)) < 0.001 } == true
                && fixture.store.record(for: key)?.inFlightSince == nil
        }
        do {
            try #require(try await fixture.wait(upTo: 10) { try refreshedNow(fixture) })
            let first = try #require(try fixture.store.record(for: key))

            // Within the minimum interval of the last refresh: deferred to exactly its end.
            clock.advance(by: 0.5)
            guard case let .scheduled(id, at, deferred) = try await fixture.engine.requestRefresh(key) else {
                Issue.record("not scheduled")
                await fixture.stop()
                return
            }
            #expect(deferred)
            #expect(abs(at.timeIntervalSince(first.lastRefreshAt!.addingTimeInterval(2))) < 0.001)
            // 1.5 s before then (the engine lets a wake-up up to 1 s early through), a wake-up sends
            // nothing; at that moment, the refresh is made.
            clock.set(at.addingTimeInterval(-1.5))
            fixture.engine.scheduleNow(id)
            try await Task.sleep(for: .milliseconds(200))
            #expect(try fixture.store.record(for: key)?.lastRefreshAt == first.lastRefreshAt, "refreshed before the minimum interval")
            clock.set(at)
            fixture.tick()
            #expect(try await fixture.wait(upTo: 10) { try refreshedNow(fixture) })

            // A retrying grant: two failures, then a request; its failure count starts over, so the
            // attempt it makes is the first failure again.
            try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .token))
            for failures in 1...2 {
                clock.advance(by: 3)
                if failures == 1 { _ = try await fixture.engine.requestRefresh(key) } else { fixture.tick() }
                #expect(try await fixture.wait(upTo: 10) { try attemptedNow(fixture) && fixture.store.record(for: key)?.consecutiveFailures == failures })
            }
            clock.advance(by: 3)
            guard case .scheduled(_, _, false) = try await fixture.engine.requestRefresh(key) else {
                Issue.record("a retrying grant past its minimum interval was not refreshed at once")
                await fixture.stop()
                return
            }
            #expect(try await fixture.wait(upTo: 10) { try attemptedNow(fixture) })
            #expect(try fixture.store.record(for: key)?.consecutiveFailures == 1, "the backoff did not start over")
            await fixture.stop()
        } catch {
            await fixture.stop()
            throw error
        }
    }

    @Test("requestRefresh refuses a grant that waits for a person, and knows no unknown grant")
    func refusals() async throws {
        let (fixture, _) = try await EngineFixture.start(accessTokenLifetime: 4, grants: [("demo", "ACTIVE")])
        try await fixture.closing {
            try fixture.emulator.revokeUser("ALICE")
            #expect(try await fixture.wait(upTo: 15) { try fixture.status(key) == .needsReauth })
            guard case .refused(let status, _) = try await fixture.engine.requestRefresh(key) else {
                Issue.record("a dead grant was scheduled")
                return
            }
            #expect(status == .needsReauth)
            #expect(try await fixture.engine.requestRefresh(.library("NOPE", of: "demo")) == .notFound)
        }
    }

    @Test("revoke removes the grant and its tokens with an event; scheduleStored picks up an imported grant")
    func revokeAndSchedule() async throws {
        let (fixture, _) = try await EngineFixture.start(accessTokenLifetime: 4, grants: [("demo", "ACTIVE")])
        try await fixture.closing {
            let transition = try await fixture.engine.revoke(key, message: "revoked in a test")
            #expect(transition?.current == .unauthorized)
            #expect(try fixture.store.record(for: key) == nil && fixture.store.tokens(for: key) == nil)
            #expect(try fixture.store.events().last?.message == "revoked in a test")
            #expect(try await fixture.engine.revoke(key, message: "again") == nil)

            let imported = GrantKey.library("RECORDS", of: "demo")
            try await fixture.store.saveAuthorization(.seeded(
                imported, refreshToken: try fixture.emulator.mintRefreshToken(), refreshLife: 86_400,
                nextRefreshAt: Date().addingTimeInterval(0.3), message: "imported"))
            let at = try #require(try await fixture.engine.scheduleStored(imported))
            #expect(at.timeIntervalSinceNow < 1)
            #expect(try await fixture.wait(upTo: 15) { try fixture.store.tokens(for: imported)?.accessToken != nil })
            #expect(try await fixture.engine.scheduleStored(.library("NOPE", of: "demo")) == nil)
        }
    }
}
