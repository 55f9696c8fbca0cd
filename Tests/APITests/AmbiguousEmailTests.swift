import Foundation
import Testing
import TokendAPI
import TokendPolicy
import TokendStore

@Suite("An email that names several users is refused with the ids to use")
struct AmbiguousEmailTests {
    @Test("GET …/users/{email}/token: 400 naming both ids, and never a token; by id each is served")
    func tokenByAmbiguousEmail() async throws {
        let fixture = try await APIFixture.start(libraries: [])
        // Two user grants of one organisation whose authorisers share an email (an account re-created
        // in iManage under a new id): the email alone cannot say whose token to hand out.
        for id in ["ALICE", "ALICE2"] {
            var authorization = try APIFixture.authorization(fixture.emulator, key: .user(id, of: "demo"), nextRefreshAt: nil)
            authorization.identity.userID = id
            try await fixture.store.saveAuthorization(authorization)
        }
        let answer = try await fixture.daemon.send(.GET, "/v1/organisations/demo/users/alice%40example.com/token")
        let object = try APIFixture.object(answer)
        let byID = try await fixture.daemon.send(.GET, "/v1/organisations/demo/users/ALICE2/token")
        await fixture.stop()
        #expect(answer.status == 400)
        #expect(object["error"] as? String == "bad_request")
        #expect((object["reason"] as? String)?.contains("alice@example.com is the email of 2 users of organisation demo (ALICE, ALICE2)") == true, "\(object)")
        #expect(object["access_token"] == nil)
        #expect(byID.status != 400, "a user named by id is not ambiguous")
    }
}
