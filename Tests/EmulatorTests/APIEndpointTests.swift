import Foundation
import IManageEmulator
import Testing

@Suite("iManage API: discovery, libraries, NRTADMIN members, revoked users")
struct APIEndpointTests {
    @Test("GET /api answers the signed-in user and the customer id")
    func discovery() async throws {
        try await withEmulator { h in
            let access = try #require(try await h.authorizedTokens()["access_token"] as? String)
            let answer = try await h.get("/api", token: access)
            #expect(answer.status == 200)
            #expect(answer.header("Content-Type") == "application/json; charset=utf-8")
            let data = try #require(try answer.json()["data"] as? [String: Any])
            let user = try #require(data["user"] as? [String: Any])
            #expect(user["id"] as? String == "ALICE")
            #expect(user["email"] as? String == "alice@example.com")
            #expect(user["name"] as? String == "Alice Admin")
            #expect(user["customer_id"] as? String == "1")
            #expect(data["versions"] is [Any])

            let bob = try #require(
                try await h.authorizedTokens(email: "BOB", password: "bob-password")["access_token"] as? String)
            let bobUser = try await h.get("/api", token: bob).json()["data"] as? [String: Any]
            #expect((bobUser?["user"] as? [String: Any])?["id"] as? String == "BOB")
        }
    }

    @Test("Missing or unknown access tokens get 401 with an iManage error body")
    func unauthorized() async throws {
        try await withEmulator { h in
            for token in [nil, "", "bogus", String(repeating: "x", count: 43)] {
                let answer = try await h.get("/work/api/v2/customers/1/libraries", token: token)
                #expect(answer.status == 401)
                let error = try #require(try answer.json()["error"] as? [String: Any])
                #expect(error["code"] is String)
                #expect(error["code_message"] is String)
            }
        }
    }

    @Test("Libraries of the customer; a wrong customer id is 404")
    func libraries() async throws {
        try await withEmulator { h in
            let access = try #require(try await h.authorizedTokens()["access_token"] as? String)
            let answer = try await h.get("/work/api/v2/customers/1/libraries", token: access)
            #expect(answer.status == 200)
            let libraries = try #require(try answer.json()["data"] as? [[String: Any]])
            #expect(libraries.map { $0["id"] as? String } == ["ACTIVE", "ARCHIVE", "LITIGATION"])
            #expect(libraries.allSatisfy { $0["type"] as? String == "worksite" && $0["is_hidden"] as? Bool == false })
            #expect(try await h.get("/work/api/v2/customers/2/libraries", token: access).status == 404)
        }
    }

    @Test("NRTADMIN members; adding and removing members through the control API")
    func nrtAdminMembers() async throws {
        try await withEmulator { h in
            let access = try #require(try await h.authorizedTokens()["access_token"] as? String)
            func members(_ library: String) async throws -> [String] {
                let answer = try await h.get("/work/api/v2/customers/1/libraries/\(library)/groups/NRTADMIN/members", token: access)
                #expect(answer.status == 200)
                return try #require(try answer.json()["data"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            }
            let active = try await h.get("/work/api/v2/customers/1/libraries/ACTIVE/groups/NRTADMIN/members", token: access)
            let first = try #require((try active.json()["data"] as? [[String: Any]])?.first)
            #expect(first["id"] as? String == "ALICE")
            #expect(first["email"] as? String == "alice@example.com")
            #expect(first["full_name"] as? String == "Alice Admin")
            #expect(try await members("LITIGATION") == ["BOB"])

            let added = try await h.request(.PUT, "/_emulator/libraries/LITIGATION/nrtadmin/CAROL")
            #expect(added.status == 200)
            #expect(try await members("LITIGATION") == ["BOB", "CAROL"])
            let removed = try await h.request(.DELETE, "/_emulator/libraries/ACTIVE/nrtadmin/ALICE")
            #expect(removed.status == 200)
            #expect(try await members("ACTIVE") == [])

            // Swift control methods do the same.
            try h.emulator.addNRTAdmin(user: "alice@example.com", library: "ACTIVE")
            #expect(try await members("ACTIVE") == ["ALICE"])
            #expect(throws: EmulatorError.unknownLibrary("NOPE")) { try h.emulator.removeNRTAdmin(user: "ALICE", library: "NOPE") }

            #expect(try await h.get("/work/api/v2/customers/1/libraries/NOPE/groups/NRTADMIN/members", token: access).status == 404)
            #expect(try await h.request(.PUT, "/_emulator/libraries/NOPE/nrtadmin/ALICE").status == 404)
            #expect(try await h.request(.PUT, "/_emulator/libraries/ACTIVE/nrtadmin/NOBODY").status == 404)
        }
    }

    @Test("Revoking a user kills their grants and sign-in; restoring allows sign-in again")
    func revokeAndRestoreUser() async throws {
        try await withEmulator { h in
            let tokens = try await h.authorizedTokens()
            let refresh = try #require(tokens["refresh_token"] as? String)
            let access = try #require(tokens["access_token"] as? String)
            let bobRefresh = try #require(
                try await h.authorizedTokens(email: "bob@example.com", password: "bob-password")["refresh_token"] as? String)

            let revoked = try await h.request(.POST, "/_emulator/users/ALICE/revoke")
            #expect(revoked.status == 200)
            #expect(try revoked.json()["enabled"] as? Bool == false)
            #expect(try await h.refresh(refresh).oauthError == "invalid_grant")
            #expect(try await h.get("/api", token: access).status == 401)
            #expect(try await h.inspectState(refresh) == "revoked")
            #expect(try await h.refresh(bobRefresh).status == 200)

            let signIn = try await h.submitSignIn(email: "alice@example.com", password: "alice-password")
            #expect(signIn.status == 200)
            #expect(signIn.body.contains("disabled"))

            #expect(try await h.request(.POST, "/_emulator/users/ALICE/restore").status == 200)
            let code = try await h.signIn()
            #expect(try await h.exchange(code: code).status == 200)
            #expect(try await h.refresh(refresh).oauthError == "invalid_grant")
            #expect(try await h.request(.POST, "/_emulator/users/NOBODY/revoke").status == 404)
        }
    }
}
