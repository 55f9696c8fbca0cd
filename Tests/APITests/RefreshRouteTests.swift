import Foundation
import IManageEmulator
import Testing
import TokendAPI
import TokendPolicy
import TokendStore

@Suite("POST /v1/refresh, revoke and schedule, against a running engine", .serialized)
struct RefreshRouteTests {
    let key = GrantKey.library("ACTIVE", of: "demo")

    func refresh(_ fixture: APIFixture, _ body: String) async throws -> (Int, [String: Any]) {
        let answer = try await fixture.daemon.send(.POST, "/v1/refresh", body: Data(body.utf8))
        let result = (try APIFixture.object(answer)["results"] as? [[String: Any]])?.first ?? [:]
        return (answer.status, result)
    }

    @Test("refreshes now and waits for the outcome; a second request within the minimum interval is deferred to it")
    func minimumInterval() async throws {
        let fixture = try await APIFixture.start(accessTokenLifetime: 600, minimumInterval: 3)
        defer { Task { await fixture.stop() } }
        #expect(try await fixture.wait(upTo: 15) { try fixture.store.record(for: key)?.accessExpiresAt != nil && fixture.store.record(for: key)?.inFlightSince == nil })
        try await Task.sleep(for: .seconds(3))
        let before = try #require(try fixture.store.record(for: key)?.lastRefreshAt)

        let (status, first) = try await refresh(fixture, #"{"organisation":"demo","library":"ACTIVE","wait":15}"#)
        #expect(status == 200)
        #expect(first["outcome"] as? String == "refreshed")
        let after = try #require(try fixture.store.record(for: key)?.lastRefreshAt)
        #expect(after > before)

        let (_, second) = try await refresh(fixture, #"{"organisation":"demo","library":"ACTIVE"}"#)
        #expect(second["outcome"] as? String == "scheduled")
        let at = try #require((second["refresh_at"] as? String).flatMap { try? Date.ISO8601FormatStyle().parse($0) })
        #expect(at.timeIntervalSince(after) >= 2, "the minimum interval was not respected")
        #expect((second["reason"] as? String)?.contains("minimum_interval_seconds") == true)
    }

    @Test("a retrying grant's backoff starts over: the failure count goes back to one")
    func resetsBackoff() async throws {
        let fixture = try await APIFixture.start(accessTokenLifetime: 600, minimumInterval: 0.2)
        defer { Task { await fixture.stop() } }
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

    @Test("a grant that needs a person is refused; unknown grants 404; bad bodies 400")
    func refusals() async throws {
        let fixture = try await APIFixture.start()
        defer { Task { await fixture.stop() } }
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

    @Test("DELETE revokes: the grant and its tokens are gone, the event is recorded, the timer does nothing")
    func revoke() async throws {
        let fixture = try await APIFixture.start(accessTokenLifetime: 2)
        defer { Task { await fixture.stop() } }
        #expect(try await fixture.wait(upTo: 15) { try fixture.store.record(for: key)?.accessExpiresAt != nil })
        let answer = try await fixture.daemon.send(.DELETE, "/v1/organisations/demo/libraries/ACTIVE")
        #expect(answer.status == 200)
        #expect(try APIFixture.object(answer)["status"] as? String == "unauthorized")
        #expect(try fixture.store.record(for: key) == nil)
        #expect(try fixture.store.tokens(for: key) == nil)
        #expect(try fixture.store.events().last?.message.contains("revoked") == true)
        #expect(try await fixture.daemon.send(.GET, "/v1/organisations/demo/libraries/ACTIVE/token").status == 404)
        #expect(try await fixture.daemon.send(.DELETE, "/v1/organisations/demo/libraries/ACTIVE").status == 404)
        // Its old timer fires within the token's life: nothing is refreshed, nothing comes back.
        let requests = fixture.emulator.stats().total(.token)
        try await Task.sleep(for: .seconds(2))
        #expect(fixture.emulator.stats().total(.token) == requests)
        #expect(try fixture.store.record(for: key) == nil)
    }

    @Test("POST …/schedule: a grant stored by another process is refreshed without a reload")
    func scheduleStored() async throws {
        let fixture = try await APIFixture.start(libraries: [])
        defer { Task { await fixture.stop() } }
        let imported = GrantKey.library("RECORDS", of: "demo")
        try await fixture.store.saveAuthorisation(
            try APIFixture.authorisation(fixture.emulator, key: imported, nextRefreshAt: Date().addingTimeInterval(0.5)))
        try await Task.sleep(for: .seconds(1))
        #expect(try fixture.store.record(for: imported)?.lastAttemptAt == nil, "refreshed before anyone told the engine")
        let answer = try await fixture.daemon.send(.POST, "/v1/organisations/demo/libraries/RECORDS/schedule")
        #expect(answer.status == 200)
        #expect(try await fixture.wait(upTo: 15) { try fixture.store.record(for: imported)?.lastRefreshAt.map { _ in
            try fixture.store.tokens(for: imported)?.accessToken != nil } ?? false })
        #expect(try await fixture.daemon.send(.POST, "/v1/organisations/demo/libraries/NOPE/schedule").status == 404)
    }
}
