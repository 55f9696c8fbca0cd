import Foundation
import IManageEmulator
import Testing
import TokendAPI
import TokendPolicy
import TokendStore
import TokendTestSupport

@Suite("The token API's routes, against a running engine and the emulator", .serialized)
struct TokenAPIRouteTests {
    let key = GrantKey.library("ACTIVE", of: "demo")

    @Test("GET /v1/status: the status report of the running daemon")
    func status() async throws {
        let fixture = try await APIFixture.start()
        try await withTeardown({ await fixture.stop() }) {
            #expect(try await fixture.wait(upTo: 15) { try fixture.store.tokens(for: key)?.accessToken != nil })
            let answer = try await fixture.daemon.send(.GET, "/v1/status")
            #expect(answer.status == 200)
            let object = try APIFixture.object(answer)
            #expect(object["attention"] as? String == "ok")
            #expect((object["daemon"] as? [String: Any])?["running"] as? Bool == true)
            #expect((object["daemon"] as? [String: Any])?["pid"] as? Int == Int(getpid()))
            let library = try #require((object["libraries"] as? [[String: Any]])?.first)
            #expect(library["id"] as? String == "ACTIVE" && library["status"] as? String == "authorized")
            #expect((object["organisations"] as? [[String: Any]])?.map { $0["name"] as? String } == ["demo", "off"])

            let filtered = try APIFixture.object(try await fixture.daemon.send(.GET, "/v1/status?organisation=demo&library=RECORDS"))
            #expect(filtered["attention"] as? String == "critical")
            #expect((filtered["libraries"] as? [[String: Any]])?.first?["status"] as? String == "unauthorized")
            let token = try fixture.store.tokens(for: key)?.accessToken ?? "none"
            #expect(!String(decoding: answer.body, as: UTF8.self).contains(token), "the status leaked an access token")
        }
    }

    @Test("GET …/libraries/{library}/token: a valid token iManage accepts; unknown grants 404")
    func validToken() async throws {
        let fixture = try await APIFixture.start()
        try await withTeardown({ await fixture.stop() }) {
            #expect(try await fixture.wait(upTo: 15) { try fixture.store.tokens(for: key)?.accessToken != nil })
            let answer = try await fixture.daemon.send(.GET, "/v1/organisations/demo/libraries/ACTIVE/token")
            #expect(answer.status == 200)
            let object = try APIFixture.object(answer)
            let token = try #require(object["access_token"] as? String)
            #expect(object["status"] as? String == "authorized" && object["kind"] as? String == "library" && object["id"] as? String == "ACTIVE")
            #expect((object["expires_in"] as? Int).map { $0 > 0 && $0 <= 6 } == true)
            #expect(object["expires_at"] as? String != nil)
            let discovered = await fixture.client.discover(discoveryURL: URL(string: fixture.emulator.baseURL + "/api")!, accessToken: token)
            #expect((try? discovered.get())?.userID == "ALICE", "iManage did not accept the token")

            #expect(try await fixture.daemon.send(.GET, "/v1/organisations/demo/libraries/NOPE/token").status == 404)
            #expect(try await fixture.daemon.send(.GET, "/v1/organisations/nope/libraries/ACTIVE/token").status == 404)
            let reason = try APIFixture.object(try await fixture.daemon.send(.GET, "/v1/organisations/nope/libraries/ACTIVE/token"))["reason"] as? String
            #expect(reason?.contains("no organisation nope") == true)
        }
    }

    @Test("GET …/users/{user}/token by user id or email")
    func userToken() async throws {
        let fixture = try await APIFixture.start(libraries: [])
        try await withTeardown({ await fixture.stop() }) {
            let user = GrantKey.user("ALICE", of: "demo")
            try await fixture.store.saveAuthorization(try APIFixture.authorization(fixture.emulator, key: user, nextRefreshAt: Date()))
            try await fixture.engine.scheduleStored(user)
            #expect(try await fixture.wait(upTo: 15) { try fixture.store.tokens(for: user)?.accessToken != nil })
            let byID = try APIFixture.object(try await fixture.daemon.send(.GET, "/v1/organisations/demo/users/ALICE/token"))
            let byEmail = try APIFixture.object(try await fixture.daemon.send(.GET, "/v1/organisations/demo/users/alice%40example.com/token"))
            #expect(byID["access_token"] as? String != nil)
            #expect(byID["access_token"] as? String == byEmail["access_token"] as? String)
            #expect(byEmail["id"] as? String == "ALICE")
        }
    }

    @Test("a grant whose access token ran out answers 503 with its status and why, never the stale token")
    func expiredToken() async throws {
        let fixture = try await APIFixture.start(accessTokenLifetime: 2)
        try await withTeardown({ await fixture.stop() }) {
            #expect(try await fixture.wait(upTo: 15) { try fixture.store.tokens(for: key)?.accessToken != nil })
            let stale = try #require(try fixture.store.tokens(for: key)?.accessToken)
            try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .token))
            #expect(try await fixture.wait(upTo: 15) { try fixture.store.record(for: key)?.status == .expired })
            let answer = try await fixture.daemon.send(.GET, "/v1/organisations/demo/libraries/ACTIVE/token")
            #expect(answer.status == 503)
            let object = try APIFixture.object(answer)
            #expect(object["status"] as? String == "expired")
            #expect((object["reason"] as? String)?.contains("ran out") == true)
            #expect(object["access_token"] == nil)
            #expect((object["last_error"] as? String)?.contains("503") == true)
            #expect(!String(decoding: answer.body, as: UTF8.self).contains(stale))
        }
    }

    @Test("needs_reauth and a disabled organisation answer 503 with what to do")
    func deadGrantAndDisabled() async throws {
        let fixture = try await APIFixture.start()
        try await withTeardown({ await fixture.stop() }) {
            try await fixture.store.saveAuthorization(try APIFixture.authorization(fixture.emulator, key: .library("ARCHIVE", of: "off"), nextRefreshAt: Date()))
            #expect(try await fixture.wait(upTo: 15) { try fixture.store.tokens(for: key)?.accessToken != nil })
            try fixture.emulator.revokeUser("ALICE")
            _ = try await fixture.daemon.send(.POST, "/v1/refresh", body: Data(#"{"organisation":"demo","library":"ACTIVE","wait":15}"#.utf8))
            let deadAnswer = try await fixture.daemon.send(.GET, "/v1/organisations/demo/libraries/ACTIVE/token")
            #expect(deadAnswer.status == 503)
            let dead = try APIFixture.object(deadAnswer)
            #expect(dead["status"] as? String == "needs_reauth")
            #expect((dead["reason"] as? String)?.contains("authorise again") == true)
            let off = try await fixture.daemon.send(.GET, "/v1/organisations/off/libraries/ARCHIVE/token")
            #expect(off.status == 503)
            #expect(try APIFixture.object(off)["status"] as? String == "disabled")
        }
    }
}
