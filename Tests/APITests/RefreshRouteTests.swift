import Foundation
import IManageEmulator
import Testing
import TokendAPI
import TokendPolicy
import TokendStore
import TokendTestSupport

@Suite("POST /v1/refresh, revoke and schedule, against a running engine", .serialized)
struct RefreshRouteTests {
    let key = GrantKey.library("ACTIVE", of: "demo")

    func refresh(_ fixture: APIFixture, _ body: String) async throws -> (Int, [String: Any]) {
        let answer = try await fixture.daemon.send(.POST, "/v1/refresh", body: Data(body.utf8))
        let result = (try APIFixture.object(answer)["results"] as? [[String: Any]])?.first ?? [:]
        return (answer.status, result)
    }

    /// The rule: a refresh asked for within `minimum_interval_seconds` of the grant's last attempt is
    /// deferred to exactly that attempt plus the interval (here 3 s), never sooner. The grant is stored
    /// with its first refresh an hour ahead, so the first request is its first contact and needs no wait.
    @Test("refreshes now and waits for the outcome; a second request within the minimum interval is deferred to exactly the interval's end")
    func minimumInterval() async throws {
        let fixture = try await APIFixture.start(accessTokenLifetime: 600, minimumInterval: 3, libraries: [])
        try await withTeardown({ await fixture.stop() }) {
            try await fixture.store.saveAuthorization(
                try APIFixture.authorization(fixture.emulator, key: key, nextRefreshAt: Date().addingTimeInterval(3600)))
            #expect(try fixture.store.record(for: key)?.lastAttemptAt == nil)

            let (status, first) = try await refresh(fixture, #"{"organisation":"demo","library":"ACTIVE","wait":15}"#)
            #expect(status == 200)
            #expect(first["outcome"] as? String == "refreshed")
            let refreshed = try #require(try fixture.store.record(for: key))
            let after = try #require([refreshed.lastAttemptAt, refreshed.lastRefreshAt].compactMap { $0 }.max())

            let (_, second) = try await refresh(fixture, #"{"organisation":"demo","library":"ACTIVE"}"#)
            #expect(second["outcome"] as? String == "scheduled")
            #expect((second["reason"] as? String)?.contains("minimum_interval_seconds") == true)
            let deferredTo = try #require(try fixture.store.record(for: key)?.nextRefreshAt)
            #expect(abs(deferredTo.timeIntervalSince(after) - 3) < 0.002,
                    "deferred \(deferredTo.timeIntervalSince(after)) s after the last attempt, not the 3 s minimum interval")
            // The answer gives the same moment, in whole seconds (RFC 3339 without fractions).
            let at = try #require((second["refresh_at"] as? String).flatMap { try? Date.ISO8601FormatStyle().parse($0) })
            #expect(at <= deferredTo && deferredTo.timeIntervalSince(at) < 1, "refresh_at \(at) is not \(deferredTo)")
        }
    }

    @Test("a retrying grant's backoff starts over: the failure count goes back to one")
    func resetsBackoff() async throws {
        let fixture = try await APIFixture.start(accessTokenLifetime: 600, minimumInterval: 0.2)
        try await withTeardown({ await fixture.stop() }) {
            #expect(try await fixture.wait(upTo: 15) { try fixture.store.record(for: key)?.accessExpiresAt != nil })
            try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .token))
            // The first failure comes from this request; the engine's own retries (backoff 1-2 s here) add more.
            _ = try await refresh(fixture, #"{"organisation":"demo","library":"ACTIVE","wait":15}"#)
            #expect(try await fixture.wait(upTo: 10) { (try fixture.store.record(for: key)?.consecutiveFailures ?? 0) >= 3 })
            let (_, result) = try await refresh(fixture, #"{"organisation":"demo","library":"ACTIVE","wait":15}"#)
            #expect(result["outcome"] as? String == "failed")
            #expect(result["status"] as? String == "retrying")
            #expect((result["last_error"] as? String)?.contains("503") == true)
            // Without the reset it would be 4 or more; 2 if one of the engine's own retries came in between.
            #expect((try fixture.store.record(for: key)?.consecutiveFailures ?? 9) <= 2)

            fixture.emulator.clearFaults()
            let (_, healed) = try await refresh(fixture, "{\"grants\":[{\"organisation\":\"demo\",\"library\":\"ACTIVE\"}],\"wait\":5}")
            #expect(healed["outcome"] as? String == "refreshed" && healed["status"] as? String == "authorized")
        }
    }

    @Test("a grant that needs a person is refused; unknown grants 404; bad bodies 400")
    func refusals() async throws {
        let fixture = try await APIFixture.start()
        try await withTeardown({ await fixture.stop() }) {
            #expect(try await fixture.wait(upTo: 15) { try fixture.store.record(for: key)?.accessExpiresAt != nil })
            try fixture.emulator.revokeUser("ALICE")
            _ = try await refresh(fixture, #"{"organisation":"demo","library":"ACTIVE","wait":15}"#)
            #expect(try fixture.store.record(for: key)?.status == .needsReauth)
            let (status, refused) = try await refresh(fixture, #"{"organisation":"demo","library":"ACTIVE"}"#)
            #expect(status == 200 && refused["outcome"] as? String == "refused")
            #expect((refused["reason"] as? String)?.contains("authorise it again") == true)
            #expect(try await refresh(fixture, #"{"organisation":"demo","library":"NOPE"}"#).0 == 404)
            #expect(try await fixture.daemon.send(.POST, "/v1/refresh", body: Data("not json".utf8)).status == 400)
            #expect(try await fixture.daemon.send(.POST, "/v1/refresh", body: Data(#"{"organisation":"demo"}"#.utf8)).status == 400)
            #expect(try await fixture.daemon.send(.POST, "/v1/refresh?organisation=demo&library=NOPE").status == 404)
        }
    }

    @Test("DELETE revokes: the grant and its tokens are gone, the event is recorded, the timer does nothing")
    func revoke() async throws {
        let fixture = try await APIFixture.start(accessTokenLifetime: 2)
        try await withTeardown({ await fixture.stop() }) {
            #expect(try await fixture.wait(upTo: 15) { try fixture.store.record(for: key)?.accessExpiresAt != nil })
            let oldDeadline = try #require(try fixture.store.record(for: key)?.nextRefreshAt)
            let answer = try await fixture.daemon.send(.DELETE, "/v1/organisations/demo/libraries/ACTIVE")
            #expect(answer.status == 200)
            #expect(try APIFixture.object(answer)["status"] as? String == "unauthorized")
            #expect(try fixture.store.record(for: key) == nil)
            #expect(try fixture.store.tokens(for: key) == nil)
            #expect(try fixture.store.events().last?.message.contains("revoked") == true)
            #expect(try await fixture.daemon.send(.GET, "/v1/organisations/demo/libraries/ACTIVE/token").status == 404)
            #expect(try await fixture.daemon.send(.DELETE, "/v1/organisations/demo/libraries/ACTIVE").status == 404)
            // Its old timer fires at the refresh it had scheduled: wait until just past that moment;
            // nothing is refreshed, nothing comes back.
            let requests = fixture.emulator.stats().total(.token)
            try await Task.sleep(for: .seconds(max(0, oldDeadline.timeIntervalSinceNow) + 0.3))
            #expect(fixture.emulator.stats().total(.token) == requests)
            #expect(try fixture.store.record(for: key) == nil)
        }
    }

    @Test("POST …/schedule: a grant stored by another process is refreshed without a reload")
    func scheduleStored() async throws {
        let fixture = try await APIFixture.start(libraries: [])
        try await withTeardown({ await fixture.stop() }) {
            let imported = GrantKey.library("RECORDS", of: "demo")
            try await fixture.store.saveAuthorization(
                try APIFixture.authorization(fixture.emulator, key: imported, nextRefreshAt: Date().addingTimeInterval(-1)))
            // Overdue, yet not refreshed while the engine is not told: half a second is many times what a
            // scheduled overdue grant takes (measured below, against the same bound).
            try await Task.sleep(for: .milliseconds(500))
            #expect(try fixture.store.record(for: imported)?.lastAttemptAt == nil, "refreshed before anyone told the engine")
            let answer = try await fixture.daemon.send(.POST, "/v1/organisations/demo/libraries/RECORDS/schedule")
            #expect(answer.status == 200)
            #expect(try await fixture.wait(upTo: 0.5) { try fixture.store.record(for: imported)?.lastRefreshAt.map { _ in
                try fixture.store.tokens(for: imported)?.accessToken != nil } ?? false }, "not refreshed within half a second of being scheduled")
            #expect(try await fixture.daemon.send(.POST, "/v1/organisations/demo/libraries/NOPE/schedule").status == 404)
        }
    }
}
