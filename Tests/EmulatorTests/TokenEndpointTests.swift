import Foundation
import IManageEmulator
import Testing

@Suite("Token endpoint: refresh, rotation, expiry, errors")
struct TokenEndpointTests {
    @Test("Rotation off: the same refresh token keeps working, answers omit refresh_token, old access token dropped")
    func refreshWithoutRotation() async throws {
        try await withEmulator { h in
            let tokens = try await h.authorizedTokens()
            let refresh = try #require(tokens["refresh_token"] as? String)
            let firstAccess = try #require(tokens["access_token"] as? String)
            var previousAccess = firstAccess
            for _ in 0..<3 {
                let answer = try await h.refresh(refresh)
                #expect(answer.status == 200, "\(answer.body)")
                let json = try answer.json()
                #expect(json["refresh_token"] == nil)
                #expect(json["expires_in"] as? Int == 1800)
                let access = try #require(json["access_token"] as? String)
                #expect(access != previousAccess)
                #expect(try await h.get("/api", token: access).status == 200)
                #expect(try await h.get("/api", token: previousAccess).status == 401)
                previousAccess = access
            }
            #expect(try await h.inspectState(refresh) == "active")
        }
    }

    @Test("Rotation on: a new token each time; the old one works within grace, and after grace revokes the chain")
    func rotationWithGrace() async throws {
        var configuration = EmulatorConfiguration.demo
        configuration.rotatesRefreshTokens = true
        configuration.rotationGraceSeconds = 30
        try await withEmulator(configuration) { h in
            let tokens = try await h.authorizedTokens()
            let original = try #require(tokens["refresh_token"] as? String)
            let rotated = try await h.refresh(original).json()
            let current = try #require(rotated["refresh_token"] as? String)
            let currentAccess = try #require(rotated["access_token"] as? String)
            #expect(current != original)
            #expect(try await h.inspectState(original) == "rotated")
            #expect(try await h.inspectState(current) == "active")

            // Within grace: the old token answers the chain's current tokens.
            let retry = try await h.refresh(original)
            #expect(retry.status == 200)
            #expect(try retry.json()["refresh_token"] as? String == current)
            #expect(try retry.json()["access_token"] as? String == currentAccess)

            // After grace: reuse. The whole chain is revoked, the current token included.
            try h.emulator.advanceClock(by: 31)
            let reuse = try await h.refresh(original)
            #expect(reuse.status == 400)
            #expect(reuse.oauthError == "invalid_grant")
            #expect(try await h.refresh(current).oauthError == "invalid_grant")
            #expect(try await h.inspectState(current) == "revoked")
        }
    }

    @Test("Rotation on without grace: presenting the old token at once revokes the chain")
    func rotationWithoutGrace() async throws {
        try await withEmulator { h in
            try await h.postJSON("/_emulator/settings", #"{"rotation":true}"#, method: .PATCH).status.isOK()
            let tokens = try await h.authorizedTokens()
            let original = try #require(tokens["refresh_token"] as? String)
            let current = try #require(try await h.refresh(original).json()["refresh_token"] as? String)
            let next = try #require(try await h.refresh(current).json()["refresh_token"] as? String)
            #expect(try await h.refresh(original).oauthError == "invalid_grant")
            #expect(try await h.refresh(next).oauthError == "invalid_grant")

            // The summary a crash run checks against: one grant, revoked for reuse.
            let summary = try await h.get("/_emulator/grants").json()
            #expect(summary["grants"] as? Int == 1 && summary["revoked"] as? Int == 1 && summary["active"] as? Int == 0)
            #expect(summary["reuse_revocations"] as? Int == 1)
            let fresh = try #require(try await h.authorizedTokens()["refresh_token"] as? String)
            #expect(try await h.refresh(fresh).status == 200)
            // The original's successor was presented (refreshed on): a second holder's reuse, not a lost answer.
            #expect(h.emulator.grantSummary() == GrantSummary(
                grants: 2, active: 1, revoked: 1, expired: 0, reuseRevocations: 1, reuseBySecondRefresher: 1, reuseAfterLostAnswer: 0))
        }
    }

    @Test("A refresh token expires after its lifetime")
    func refreshTokenExpiry() async throws {
        var configuration = EmulatorConfiguration.demo
        configuration.refreshTokenLifetime = 100
        try await withEmulator(configuration) { h in
            let refresh = try #require(try await h.authorizedTokens()["refresh_token"] as? String)
            try h.emulator.advanceClock(by: 50)
            #expect(try await h.refresh(refresh).status == 200)
            try h.emulator.advanceClock(by: 51)
            #expect(try await h.inspectState(refresh) == "expired")
            #expect(try await h.refresh(refresh).oauthError == "invalid_grant")
        }
    }

    @Test("With a restarting lifetime, each refresh extends the refresh token")
    func refreshTokenLifetimeRestarts() async throws {
        var configuration = EmulatorConfiguration.demo
        configuration.refreshTokenLifetime = 100
        configuration.refreshTokenLifetimeRestartsOnRefresh = true
        try await withEmulator(configuration) { h in
            let refresh = try #require(try await h.authorizedTokens()["refresh_token"] as? String)
            for _ in 0..<3 {
                try h.emulator.advanceClock(by: 80)
                #expect(try await h.refresh(refresh).status == 200)
            }
        }
    }

    @Test("An access token expires after its lifetime; expires_in can be left out")
    func accessTokenExpiryAndExpiresIn() async throws {
        var configuration = EmulatorConfiguration.demo
        configuration.accessTokenLifetime = 60
        try await withEmulator(configuration) { h in
            let tokens = try await h.authorizedTokens()
            #expect(tokens["expires_in"] as? Int == 60)
            let access = try #require(tokens["access_token"] as? String)
            try h.emulator.advanceClock(by: 61)
            let expired = try await h.get("/api", token: access)
            #expect(expired.status == 401)
            let error = try #require(try expired.json()["error"] as? [String: Any])
            #expect(error["code"] as? String == "AUTH_TOKEN_EXPIRED")
            #expect(error["code_message"] is String)

            try h.emulator.updateSettings { $0.includesExpiresIn = false }
            let refreshed = try await h.refresh(try #require(tokens["refresh_token"] as? String)).json()
            #expect(refreshed["expires_in"] == nil)
            #expect(refreshed["access_token"] is String)
        }
    }

    @Test("A client without Allow Refresh Token gets no refresh token")
    func clientWithoutRefreshTokens() async throws {
        var configuration = EmulatorConfiguration.demo
        configuration.clients = [.init(id: "tokend-demo", secret: "demo-secret", issueRefreshTokens: false)]
        try await withEmulator(configuration) { h in
            let tokens = try await h.authorizedTokens()
            #expect(tokens["access_token"] is String)
            #expect(tokens["refresh_token"] == nil)
        }
    }

    @Test("Client and request errors per RFC 6749")
    func errors() async throws {
        try await withEmulator { h in
            let refresh = try #require(try await h.authorizedTokens()["refresh_token"] as? String)

            let wrongSecret = try await h.refresh(refresh, secret: "wrong")
            #expect(wrongSecret.status == 401)
            #expect(wrongSecret.oauthError == "invalid_client")

            let noClient = try await h.postForm("/auth/oauth2/token", [("grant_type", "refresh_token"), ("refresh_token", refresh)])
            #expect(noClient.status == 401)
            #expect(noClient.oauthError == "invalid_client")

            let client = [("client_id", Harness.clientID), ("client_secret", Harness.clientSecret)]
            let password = try await h.postForm("/auth/oauth2/token", client + [("grant_type", "password")])
            #expect(password.status == 400)
            #expect(password.oauthError == "unsupported_grant_type")

            let noGrantType = try await h.postForm("/auth/oauth2/token", client)
            #expect(noGrantType.oauthError == "invalid_request")

            let noToken = try await h.postForm("/auth/oauth2/token", client + [("grant_type", "refresh_token")])
            #expect(noToken.oauthError == "invalid_request")

            let repeated = try await h.postForm(
                "/auth/oauth2/token", client + [("grant_type", "refresh_token"), ("refresh_token", refresh), ("refresh_token", refresh)])
            #expect(repeated.oauthError == "invalid_request")

            let json = try await h.postJSON("/auth/oauth2/token", #"{"grant_type":"refresh_token"}"#)
            #expect(json.status == 400)
            #expect(json.oauthError == "invalid_request")

            let malformed = try await h.request(
                .POST, "/auth/oauth2/token", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: "grant_type=refresh_token&refresh_token=%zz")
            #expect(malformed.oauthError == "invalid_request")

            let garbage = try await h.refresh("not-a-token")
            #expect(garbage.status == 400)
            #expect(garbage.oauthError == "invalid_grant")
            let unknown = try await h.refresh(String(repeating: "A", count: 43))
            #expect(unknown.oauthError == "invalid_grant")

            // The good token still works after all that.
            #expect(try await h.refresh(refresh).status == 200)
        }
    }
}

extension Int {
    /// Checks a status is 200 (for calls whose answer is otherwise uninteresting).
    func isOK(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(self == 200, sourceLocation: sourceLocation)
    }
}
