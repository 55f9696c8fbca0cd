import Foundation
import IManageEmulator
import Testing
import TokendTestSupport

@Suite("Authorization-code flow over HTTP")
struct AuthorizationFlowTests {
    @Test("GET form, POST sign-in, follow the code, exchange it, call the API")
    func fullFlowWithoutPKCE() async throws {
        try await withEmulator { h in
            let page = try await h.get(h.authorizeQuery())
            #expect(page.status == 200)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            #expect(page.body.contains("Sign in"))
            #expect(page.body.contains("Deny"))
            let hidden = Dictionary(uniqueKeysWithValues: hiddenFields(in: page.body))
            #expect(hidden["client_id"] == "tokend-demo")
            #expect(hidden["redirect_uri"] == Harness.redirectURI)
            #expect(hidden["state"] == "st-123")
            #expect(hidden["scope"] == "user")

            let code = try await h.signIn()
            let answer = try await h.exchange(code: code)
            #expect(answer.status == 200)
            #expect(answer.header("Cache-Control") == "no-store")
            let tokens = try answer.json()
            #expect(tokens["token_type"] as? String == "Bearer")
            #expect(tokens["expires_in"] as? Int == 1800)
            let access = try #require(tokens["access_token"] as? String)
            let refresh = try #require(tokens["refresh_token"] as? String)
            #expect(access.count == 43 && refresh.count == 43 && access != refresh)

            let discovery = try await h.get("/api", token: access)
            #expect(discovery.status == 200)
            #expect(try await h.inspectState(refresh) == "active")
        }
    }

    @Test("PKCE S256: wrong or missing verifier fails, the right one succeeds")
    func pkce() async throws {
        try await withEmulator { h in
            let (verifier, challenge) = pkcePair()
            let code = try await h.signIn(challenge: challenge)
            let wrong = try await h.exchange(code: code, verifier: String(repeating: "a", count: 43))
            #expect(wrong.status == 400)
            #expect(wrong.oauthError == "invalid_grant")
            let missing = try await h.exchange(code: code)
            #expect(missing.oauthError == "invalid_grant")
            let right = try await h.exchange(code: code, verifier: verifier)
            #expect(right.status == 200, "\(right.body)")

            // A verifier for a code issued without a challenge is refused too.
            let plainCode = try await h.signIn()
            #expect(try await h.exchange(code: plainCode, verifier: verifier).oauthError == "invalid_grant")
        }
    }

    @Test("requirePKCE: a request without a challenge is sent back with invalid_request")
    func requirePKCE() async throws {
        var configuration = EmulatorConfiguration.demo
        configuration.requirePKCE = true
        try await withEmulator(configuration) { h in
            let answer = try await h.get(h.authorizeQuery())
            #expect(answer.status == 302)
            let query = queryItems(of: try #require(answer.header("Location")))
            #expect(query["error"] == "invalid_request")
            #expect(query["state"] == "st-123")
            let page = try await h.get(h.authorizeQuery(challenge: pkcePair().challenge))
            #expect(page.status == 200)
        }
    }

    @Test("login_hint prefills the email, and everything echoed is HTML-escaped")
    func loginHintAndEscaping() async throws {
        try await withEmulator { h in
            let page = try await h.get(h.authorizeQuery(loginHint: "bob@example.com"))
            #expect(page.body.contains(#"name="email" type="email" autocomplete="username" value="bob@example.com""#))

            let hostile = try await h.get(h.authorizeQuery(state: #""><script>alert(1)</script>"#, loginHint: "<b>x</b>"))
            #expect(hostile.status == 200)
            #expect(!hostile.body.contains("<script>"))
            #expect(!hostile.body.contains("<b>x</b>"))
            #expect(hostile.body.contains("&lt;script&gt;"))
            // The state still round-trips intact through the hidden field.
            let hidden = Dictionary(uniqueKeysWithValues: hiddenFields(in: hostile.body))
            #expect(hidden["state"] == #""><script>alert(1)</script>"#)
        }
    }

    @Test("Deny redirects with error=access_denied and the state")
    func deny() async throws {
        try await withEmulator { h in
            let answer = try await h.submitSignIn(email: "", password: "", action: "deny")
            #expect(answer.status == 302)
            let location = try #require(answer.header("Location"))
            #expect(location.hasPrefix(Harness.redirectURI + "?"))
            let query = queryItems(of: location)
            #expect(query["error"] == "access_denied")
            #expect(query["state"] == "st-123")
            #expect(query["code"] == nil)
        }
    }

    @Test("A wrong password shows the form again with an error")
    func wrongPassword() async throws {
        try await withEmulator { h in
            let answer = try await h.submitSignIn(email: "alice@example.com", password: "nope")
            #expect(answer.status == 200)
            #expect(answer.header("Location") == nil)
            #expect(answer.body.contains("not correct"))
            #expect(answer.body.contains(#"value="alice@example.com""#))
        }
    }

    @Test("Unknown client or a redirect URI not allowed gets a 400 page, never a redirect")
    func badClientOrRedirect() async throws {
        var configuration = EmulatorConfiguration.demo
        configuration.clients.append(.init(
            id: "strict", secret: "s", redirectURIs: ["https://tokend.example.com/oauth/callback"]))
        try await withEmulator(configuration) { h in
            for query in [
                h.authorizeQuery(clientID: "nobody"),
                h.authorizeQuery(redirectURI: "https://evil.example.com/cb"),
                h.authorizeQuery(redirectURI: "http://127.0.0.1.evil.example.com/cb"),
                h.authorizeQuery(clientID: "strict"),
                "/auth/oauth2/authorize?response_type=code&client_id=tokend-demo",
            ] {
                let answer = try await h.get(query)
                #expect(answer.status == 400, "\(query)")
                #expect(answer.header("Location") == nil)
                #expect(answer.header("Content-Type") == "text/html; charset=utf-8")
            }
            let allowed = try await h.get(h.authorizeQuery(
                clientID: "strict", redirectURI: "https://tokend.example.com/oauth/callback"))
            #expect(allowed.status == 200)
            // A bad response_type with a good client is reported through the redirect.
            let badType = try await h.get(h.authorizeQuery(responseType: "token"))
            #expect(badType.status == 302)
            #expect(queryItems(of: badType.header("Location") ?? "")["error"] == "unsupported_response_type")
        }
    }

    @Test("Reusing a code fails and revokes the grant issued from it")
    func codeReuse() async throws {
        try await withEmulator { h in
            let code = try await h.signIn()
            let first = try await h.exchange(code: code)
            let refresh = try #require(try first.json()["refresh_token"] as? String)
            let access = try #require(try first.json()["access_token"] as? String)
            let second = try await h.exchange(code: code)
            #expect(second.status == 400)
            #expect(second.oauthError == "invalid_grant")
            #expect(try await h.refresh(refresh).oauthError == "invalid_grant")
            #expect(try await h.get("/api", token: access).status == 401)
            #expect(try await h.inspectState(refresh) == "revoked")
        }
    }

    @Test("A code lives 60 seconds")
    func codeExpiry() async throws {
        try await withEmulator { h in
            let code = try await h.signIn()
            try h.emulator.advanceClock(by: 61)
            #expect(try await h.exchange(code: code).oauthError == "invalid_grant")
        }
    }
}
