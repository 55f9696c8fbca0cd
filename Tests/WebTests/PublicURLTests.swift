import Foundation
import Testing
import TokendStore
import TokendTestSupport

extension WebPageTests {
    /// What the README promises of the pages that depends on the setup around them: an iManage
    /// application that issues no refresh token, and a `public_url` on https.
    @Suite("An application without refresh tokens, and cookies under an https public_url", .serialized)
    struct PublicURLTests {
        @Test("iManage issues no refresh token: the page says so and what to ask the iManage administrator; nothing is stored")
        func noRefreshToken() async throws {
            try await withWebFixture(issueRefreshTokens: false) { fixture in
                let browser = TestBrowser()
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                let callback = try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password")
                let page = try await fixture.failedCallback(browser, callback)
                let text = visibleText(page.body)
                #expect(page.status == 502, "\(page.status): \(text)")
                #expect(text.contains("iManage issued no refresh token"), "\(text)")
                #expect(text.contains("Allow Refresh Token") && text.contains("Control Center"), "\(text)")
                #expect(text.contains("Nothing was stored"))
                #expect(try fixture.grants().isEmpty, "a grant without a refresh token was stored")
            }
        }

        @Test("under an https public_url the pages' cookies are Secure (still HttpOnly and SameSite=Lax), and iManage is sent back to https")
        func secureCookies() async throws {
            try await withWebFixture(publicURL: "https://127.0.0.1:8443") { fixture in
                let browser = TestBrowser()
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                #expect(start.status == 303)
                #expect(queryItems(of: try #require(start.location))["redirect_uri"] == "https://127.0.0.1:8443/oauth/callback")
                let flow = try #require(start.setCookies(prefix: "tokend_flow_").first)
                for attribute in ["Secure", "HttpOnly", "SameSite=Lax"] {
                    #expect(flow.contains(attribute), "the sign-in's cookie lacks \(attribute): \(flow)")
                }
                let callback = try await browser.get(
                    try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password"))
                #expect(callback.status == 303, "\(visibleText(callback.body))")
                let session = try #require(callback.setCookie("tokend_me"), "\(callback.setCookies)")
                #expect(session.contains("Secure") && session.contains("HttpOnly"), "the session cookie: \(session)")
                #expect(!callback.setCookies.isEmpty && callback.setCookies.allSatisfy { $0.contains("Secure") }, "\(callback.setCookies)")
            }
        }
    }
}
