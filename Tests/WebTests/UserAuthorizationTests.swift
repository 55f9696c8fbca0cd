import Foundation
import Testing
import TokendPolicy
import TokendStore
import TokendTestSupport

extension WebPageTests {
    @Suite("A person's own authorisation, end to end over HTTP", .serialized)
    struct UserAuthorizationTests {
        @Test("Authorise: PKCE redirect to iManage, sign in, the grant stored, 'Authorised as NAME' with the schedule")
        func authorizeStoresTheGrant() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                #expect(start.status == 303)
                let query = queryItems(of: try #require(start.location))
                #expect(query["response_type"] == "code")
                #expect(query["client_id"] == "tokend-demo")
                #expect(query["redirect_uri"] == "http://127.0.0.1:8080/oauth/callback")
                #expect(query["code_challenge_method"] == "S256")
                #expect((query["code_challenge"] ?? "").count == 43)
                #expect((query["state"] ?? "").count >= 43)

                let callbackURL = try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password")
                let callback = try await browser.get(callbackURL)
                #expect(callback.status == 303)
                #expect(callback.location == "/organisations/demo/me?authorised=1")

                let me = try await browser.get(fixture.base + callback.location!)
                let text = visibleText(me.body)
                #expect(me.status == 200)
                #expect(text.contains("Authorised as Bob Barrister"), "\(text)")
                #expect(text.contains("Authorized"))
                #expect(text.contains("Next refresh"))
                #expect(text.contains("bob@example.com"))

                let grants = try fixture.grants()
                #expect(grants.count == 1)
                let grant = try #require(grants.first)
                #expect(grant.key == .user("BOB", of: "demo"))
                #expect(grant.status == .authorized)
                #expect(grant.authorizedBy?.name == "Bob Barrister")
                #expect(grant.authorizedBy?.customerID == "1")
                #expect(grant.hasRefreshToken)
                #expect(grant.nextRefreshAt.map { $0 > Date() } == true)
            }
        }

        @Test("authorising again as the same person replaces that person's grant, never adds a second")
        func secondAuthorizationReplaces() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                _ = try await fixture.authorizeUser(browser, email: "bob@example.com", password: "bob-password")
                let first = try #require(try fixture.store.tokens(for: .user("BOB", of: "demo"))?.refreshToken)
                let again = try await fixture.authorizeUser(TestBrowser(), email: "bob@example.com", password: "bob-password")
                #expect(again.status == 303)
                let grants = try fixture.grants()
                #expect(grants.map(\.key) == [.user("BOB", of: "demo")])
                let second = try #require(try fixture.store.tokens(for: .user("BOB", of: "demo"))?.refreshToken)
                #expect(first != second)
                // Another person gets a grant of their own.
                _ = try await fixture.authorizeUser(TestBrowser(), email: "carol@example.com", password: "carol-password")
                #expect(try fixture.grants().map(\.key.subject).sorted() == ["BOB", "CAROL"])
            }
        }

        /// The rule: the grant saved by the page is refreshed at half its access token's life ±10%
        /// (here 2 s: 0.9-1.1 s after it was issued), by the engine the page handed it to, and so
        /// before the token expires; the wait ends half a second after the planned moment, before expiry.
        @Test("a new grant is handed to the running engine and refreshed at its half-life ± jitter, before expiry, without a reload")
        func newGrantIsScheduled() async throws {
            try await withWebFixture(accessTokenLifetime: 2) { fixture in
                _ = try await fixture.authorizeUser(TestBrowser(), email: "bob@example.com", password: "bob-password")
                let key = GrantKey.user("BOB", of: "demo")
                // Saving counts as the first refresh.
                let record = try #require(try fixture.store.record(for: key))
                let saved = try #require(record.lastRefreshAt)
                let planned = try #require(record.nextRefreshAt)
                let expiry = try #require(record.accessExpiresAt)
                #expect(abs(expiry.timeIntervalSince(saved) - 2) < 0.2, "the access token's life is not the emulator's 2 s")
                let delay = planned.timeIntervalSince(saved)
                #expect(delay >= 0.9 - 0.002 && delay <= 1.1 + 0.002, "next refresh \(delay) s after issue, not 1 s ±10%")
                let firstAccess = try fixture.store.tokens(for: key)?.accessToken
                let deadline = planned.addingTimeInterval(0.5)
                var refreshedAt: Date?
                while Date() < deadline, refreshedAt == nil {
                    refreshedAt = try fixture.store.record(for: key)?.lastRefreshAt.flatMap { $0 > saved ? $0 : nil }
                    if refreshedAt == nil { try await Task.sleep(for: .milliseconds(20)) }
                }
                let refreshed = try #require(refreshedAt, "the engine did not refresh the grant stored by the web page within half a second of its planned moment")
                #expect(refreshed >= planned.addingTimeInterval(-0.001), "refreshed at \(refreshed), before the planned \(planned)")
                #expect(refreshed < expiry, "refreshed at \(refreshed), after the access token expired at \(expiry)")
                #expect(try fixture.store.tokens(for: key)?.accessToken != firstAccess)
                #expect(try fixture.store.record(for: key)?.status == .authorized)
            }
        }

        @Test("/me shows only the signed-in person's own grant, and Disconnect asks to confirm, then removes it (with CSRF)")
        func meAndDisconnect() async throws {
            try await withWebFixture { fixture in
                let carol = TestBrowser()
                _ = try await fixture.authorizeUser(carol, email: "carol@example.com", password: "carol-password")
                let bob = TestBrowser()
                _ = try await fixture.authorizeUser(bob, email: "bob@example.com", password: "bob-password")

                let bobsPage = visibleText(try await bob.get(fixture.base + "/organisations/demo/me").body)
                #expect(bobsPage.contains("Bob Barrister"))
                #expect(!bobsPage.contains("Carol"))

                let stranger = try await TestBrowser().get(fixture.base + "/organisations/demo/me")
                #expect(visibleText(stranger.body).contains("You are not signed in here"))
                #expect(!stranger.body.contains("Bob") && !stranger.body.contains("Carol"))

                // Without the CSRF token: refused, nothing removed.
                let forged = try await bob.post(fixture.base + "/organisations/demo/me/disconnect", [])
                #expect(forged.status == 403)
                #expect(try fixture.grants().count == 2)
                // The confirmation page without a session is the "not signed in" page.
                #expect(visibleText(try await TestBrowser().get(fixture.base + "/organisations/demo/me/disconnect").body).contains("You are not signed in here"))

                // Disconnect on /me is a link to a confirmation page; nothing is removed before it is confirmed.
                let me = try await bob.get(fixture.base + "/organisations/demo/me")
                #expect(!me.body.contains("action=\"/organisations/demo/me/disconnect\""), "/me disconnects at one press")
                #expect(me.body.contains("href=\"/organisations/demo/me/disconnect\""))
                let confirm = try await bob.get(fixture.base + "/organisations/demo/me/disconnect")
                #expect(confirm.status == 200)
                #expect(visibleText(confirm.body).contains("Disconnect your iManage authorisation?"), "\(visibleText(confirm.body))")
                #expect(visibleText(confirm.body).contains("Cancel"))
                #expect(try fixture.grants().count == 2, "asking to confirm removed the grant")
                let csrf = try #require(hiddenFields(in: confirm.body).first { $0.0 == "csrf" }?.1)
                let disconnected = try await bob.post(fixture.base + "/organisations/demo/me/disconnect", [("csrf", csrf)])
                #expect(disconnected.status == 200)
                #expect(visibleText(disconnected.body).contains("Disconnected"))
                #expect(try fixture.grants().map(\.key.subject) == ["CAROL"])
                let history = try fixture.store.events(EventFilter(organisation: "demo", subject: "BOB"))
                #expect(history.last?.status == .unauthorized)
                #expect(history.last?.message.contains("disconnected") == true)
                #expect(visibleText(try await bob.get(fixture.base + "/organisations/demo/me").body).contains("You are not signed in here"))
            }
        }

        @Test("with pkce = false the request carries no code challenge and still completes")
        func withoutPKCE() async throws {
            try await withWebFixture(pkce: false) { fixture in
                let browser = TestBrowser()
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                #expect(queryItems(of: try #require(start.location))["code_challenge"] == nil)
                let callback = try await browser.get(try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password"))
                #expect(callback.status == 303)
                #expect(try fixture.grants().count == 1)
            }
        }
    }
}
