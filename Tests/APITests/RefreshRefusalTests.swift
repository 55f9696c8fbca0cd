import Foundation
import Testing
import TokendAPI
import TokendPolicy
import TokendStore
import TokendTestSupport

/// `POST /v1/refresh` as the README states it: grants that wait for a person, or of a disabled
/// organisation, are refused with the reason; `wait` is held to 0-60 s; a request naming known and
/// unknown grants answers each, `200` as long as one is known.
@Suite("POST /v1/refresh: refusals, the wait bounds, and known with unknown grants", .serialized)
struct RefreshRefusalTests {
    func results(_ fixture: APIFixture, _ body: String) async throws -> (status: Int, results: [[String: Any]]) {
        let answer = try await fixture.daemon.send(.POST, "/v1/refresh", body: Data(body.utf8))
        return (answer.status, try APIFixture.object(answer)["results"] as? [[String: Any]] ?? [])
    }

    /// Stores `key` with its first refresh an hour ahead, so the engine leaves it alone.
    func store(_ key: GrantKey, in fixture: APIFixture) async throws -> Int64 {
        try await fixture.store.saveAuthorization(
            try APIFixture.authorization(fixture.emulator, key: key, nextRefreshAt: Date().addingTimeInterval(3600)))
        return try #require(try fixture.store.record(for: key)).id
    }

    @Test("a disabled organisation's grant, a not_nrtadmin and an unauthorized one are refused with the reason; nothing is sent to iManage")
    func refusals() async throws {
        let fixture = try await APIFixture.start(libraries: [])
        try await withTeardown({ await fixture.stop() }) {
            _ = try await store(.library("ACTIVE", of: "off"), in: fixture)
            let lost = try await store(.library("LOST", of: "demo"), in: fixture)
            let gone = try await store(.library("GONE", of: "demo"), in: fixture)
            _ = try await fixture.store.setStatus(.notNrtadmin, ofGrants: [lost], message: "no longer an NRTADMIN")
            _ = try await fixture.store.setStatus(.unauthorized, ofGrants: [gone], message: "revoked")
            fixture.emulator.resetStats()

            let expected: [(body: String, status: String, reason: String)] = [
                (#"{"organisation":"off","library":"ACTIVE","wait":5}"#, "disabled", "organisation off is disabled"),
                (#"{"organisation":"demo","library":"LOST","wait":5}"#, "not_nrtadmin", "a person must authorise it again"),
                (#"{"organisation":"demo","library":"GONE","wait":5}"#, "unauthorized", "a person must authorise it again"),
            ]
            for item in expected {
                let (status, answer) = try await results(fixture, item.body)
                #expect(status == 200, "\(item.body)")
                let result = try #require(answer.first)
                #expect(result["outcome"] as? String == "refused", "\(item.body): \(result)")
                #expect(result["status"] as? String == item.status, "\(item.body): \(result)")
                #expect((result["reason"] as? String)?.contains(item.reason) == true, "\(item.body): \(result)")
            }
            #expect(fixture.emulator.stats().total(.token) == 0, "a refused grant was sent to iManage")
            #expect(try fixture.store.record(id: lost)?.status == .notNrtadmin)
            #expect(try fixture.store.record(id: gone)?.status == .unauthorized)
        }
    }

    /// The rule: `wait` below 0 counts as 0 (answer at once, `scheduled`), above 60 as 60; neither is a `400`.
    @Test("wait below 0 answers at once, scheduled; wait above 60 still waits for the outcome; the bound is 60 s")
    func waitBounds() async throws {
        let fixture = try await APIFixture.start(accessTokenLifetime: 600, minimumInterval: 0.1, libraries: [])
        try await withTeardown({ await fixture.stop() }) {
            let key = GrantKey.library("ACTIVE", of: "demo")
            _ = try await store(key, in: fixture)
            let (status, below) = try await results(fixture, #"{"organisation":"demo","library":"ACTIVE","wait":-5}"#)
            #expect(status == 200)
            #expect(below.first?["outcome"] as? String == "scheduled", "a negative wait waited: \(below)")
            #expect(try await fixture.wait(upTo: 10) { try fixture.store.record(for: key)?.lastRefreshAt != nil })
            #expect(try await fixture.wait(upTo: 2) { try fixture.store.record(for: key)?.inFlightSince == nil })
            try await Task.sleep(for: .milliseconds(150))  // past the 0.1 s minimum interval

            let started = Date()
            let (aboveStatus, above) = try await results(fixture, #"{"organisation":"demo","library":"ACTIVE","wait":1000}"#)
            #expect(aboveStatus == 200)
            #expect(above.first?["outcome"] as? String == "refreshed", "a wait above 60 did not wait for the outcome: \(above)")
            #expect(Date().timeIntervalSince(started) < 10)
            #expect(TokenAPIService.maximumWait == 60)
        }
    }

    @Test("known and unknown grants in one request: each answered in order, 200; only unknown ones: 404")
    func knownAndUnknown() async throws {
        let fixture = try await APIFixture.start(accessTokenLifetime: 600)
        try await withTeardown({ await fixture.stop() }) {
            let key = GrantKey.library("ACTIVE", of: "demo")
            #expect(try await fixture.wait(upTo: 15) { try fixture.store.record(for: key)?.accessExpiresAt != nil })
            let body = #"{"grants":[{"organisation":"demo","library":"NOPE"},{"organisation":"demo","library":"ACTIVE"},{"organisation":"demo","user":"NOBODY"}]}"#
            let (status, answer) = try await results(fixture, body)
            #expect(status == 200)
            #expect(answer.map { $0["id"] as? String } == ["NOPE", "ACTIVE", "NOBODY"])
            #expect(answer.map { $0["outcome"] as? String } == ["not_found", "scheduled", "not_found"])
            #expect(answer.map { $0["kind"] as? String } == ["library", "library", "user"])
            let (missingStatus, missing) = try await results(
                fixture, #"{"grants":[{"organisation":"demo","library":"NOPE"},{"organisation":"demo","user":"NOBODY"}]}"#)
            #expect(missingStatus == 404)
            #expect(missing.map { $0["outcome"] as? String } == ["not_found", "not_found"])
        }
    }
}
