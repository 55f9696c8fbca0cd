import Foundation
import IManageEmulator
import Testing
import TokendStore
import TokendTestSupport

extension WebPageTests {
    /// The mix-up defence of RFC 9207: an authorization response naming another server as its
    /// issuer is refused, on a code and on an error alike; the right issuer, or none, is accepted.
    @Suite("The callback's iss (mix-up defence)", .serialized)
    struct IssuerTests {
        @Test("iss equal to the organisation's server is accepted, and the grant stored")
        func ownIssuer() async throws {
            try await withWebFixture(issuer: .own) { fixture in
                let browser = TestBrowser()
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                let back = try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password")
                #expect(queryItems(of: back)["iss"] == fixture.emulator.baseURL)
                let callback = try await browser.get(back)
                #expect(callback.location == "/organisations/demo/me?authorised=1", "\(callback.status)")
                #expect(try fixture.grants().map(\.key) == [.user("BOB", of: "demo")])
            }
        }

        @Test("iss of another server is refused with a page that says so, and nothing is stored")
        func otherIssuer() async throws {
            try await withWebFixture(issuer: .fixed("https://login.elsewhere.example")) { fixture in
                let browser = TestBrowser()
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                let back = try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password")
                let page = try await fixture.failedCallback(browser, back)
                let text = visibleText(page.body)
                #expect(page.status == 400)
                #expect(text.contains("The answer came from another server"), "\(text)")
                #expect(text.contains("login.elsewhere.example") && text.contains(fixture.emulator.baseURL), "\(text)")
                #expect(text.contains("What to do:"))
                #expect(try fixture.grants().isEmpty)

                // On an error response too: the mismatch is told, not the error.
                let denied = try await fixture.throughIManage(
                    try await browser.get(fixture.base + "/organisations/demo/authorise"), browser: browser,
                    email: "bob@example.com", password: "", action: "deny")
                #expect(visibleText(try await fixture.failedCallback(browser, denied).body).contains("The answer came from another server"))
                #expect(try fixture.grants().isEmpty)
            }
        }

        @Test("iss equal but for case and the default port is accepted; an empty one is refused")
        func normalisedIssuer() async throws {
            try await withWebFixture { fixture in
                for (issuer, accepted) in [(fixture.emulator.baseURL.uppercased() + "/", true), ("", false)] {
                    let browser = TestBrowser()
                    let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                    let back = try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password")
                    let answer = try await browser.get(back + "&iss=" + formEncode([("", issuer)]).dropFirst())
                    if accepted {
                        #expect(answer.location == "/organisations/demo/me?authorised=1", "\(issuer): \(answer.status)")
                    } else {
                        #expect(answer.location == "/oauth/failed", "\(issuer): \(answer.status)")
                    }
                }
                #expect(try fixture.grants().count == 1)
            }
        }
    }
}
