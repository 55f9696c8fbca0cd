import Foundation
import Testing
import TokendPolicy
import TokendStore
import TokendTestSupport

extension WebPageTests {
    @Suite("Safety of the pages: headers, cookies, CSRF, no secrets", .serialized)
    struct PageSafetyTests {
        @Test("every answer carries CSP, frame denial, no-referrer and no-store, the stylesheet included, error pages too")
        func securityHeaders() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                for path in ["/organisations/demo/tracker", "/organisations/demo/me", "/organisations/demo/authorise",
                             "/organisations/nowhere/me", "/no/such/page", "/oauth/callback?state=x", "/static/tokend.css"] {
                    let answer = try await browser.get(fixture.base + path)
                    let csp = answer.header("Content-Security-Policy") ?? ""
                    #expect(csp.contains("default-src 'none'"), "\(path): \(csp)")
                    #expect(csp.contains("frame-ancestors 'none'"), "\(path)")
                    #expect(csp.contains("form-action 'self' \(fixture.emulator.baseURL)"), "\(path): \(csp)")
                    #expect(!csp.contains("script-src"), "\(path): scripts are never allowed")
                    #expect(answer.header("X-Frame-Options") == "DENY", "\(path)")
                    #expect(answer.header("Referrer-Policy") == "no-referrer", "\(path)")
                    #expect(answer.header("X-Content-Type-Options") == "nosniff", "\(path)")
                    if path != "/static/tokend.css" { #expect(answer.header("Cache-Control") == "no-store", "\(path)") }
                }
                let missing = try await browser.get(fixture.base + "/no/such/page")
                #expect(missing.status == 404)
                #expect(visibleText(missing.body).contains("Page not found"))
                let css = try await browser.get(fixture.base + "/static/tokend.css")
                #expect(css.header("Content-Type")?.hasPrefix("text/css") == true)
                let page = try await browser.get(fixture.base + "/organisations/demo/tracker")
                #expect(!page.body.contains("<script"), "the pages carry no JavaScript")
                #expect(!page.body.contains("style="), "no inline styles (the CSP forbids them)")
            }
        }

        @Test("cookies are HttpOnly and SameSite=Lax, scoped by path, not Secure over http; the sign-in's cookie is the daemon's own and cleared by the callback")
        func cookieAttributes() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                // A binding value planted by someone else is never taken over.
                let planted = "Zk3_pQ9xLmN2vB7cR4tY8wE1uI6oA5sD0fG-hJ3kL9z"
                browser.setCookie("tokend_flow", planted, host: "127.0.0.1:\(fixture.web.port)")
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                #expect(start.setCookies.allSatisfy { !$0.contains(planted) }, "\(start.setCookies)")
                let location = try #require(start.location)
                let state = try #require(queryItems(of: location)["state"])
                #expect(state != planted)
                let flows = start.setCookies(prefix: "tokend_flow_")
                #expect(flows.count == 1)
                let flow = try #require(flows.first)
                #expect(flow.contains("HttpOnly"))
                #expect(flow.contains("SameSite=Lax"))
                #expect(flow.contains("Path=/oauth/callback"))
                #expect(!flow.contains("Secure"))
                let callback = try await browser.get(try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password"))
                let cleared = callback.setCookies(prefix: "tokend_flow_")
                #expect(cleared.count == 1 && cleared[0].lowercased().contains("max-age=0"), "the callback did not clear the sign-in's cookie: \(cleared)")
                #expect(browser.cookieNames(host: "127.0.0.1:\(fixture.web.port)").allSatisfy { !$0.hasPrefix("tokend_flow_") })
                let session = try #require(callback.setCookie("tokend_me"))
                #expect(session.contains("HttpOnly"))
                #expect(session.contains("SameSite=Lax"))
                #expect(session.contains("Path=/organisations/demo"))
            }
        }

        @Test("HEAD is answered as GET without a body, on pages, error pages and the stylesheet")
        func headAsGet() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                for (path, status) in [("/organisations/demo/me", 200), ("/organisations/demo/tracker", 200), ("/static/tokend.css", 200),
                                       ("/oauth/failed", 404), ("/organisations/nowhere/me", 404), ("/no/such/page", 404)] {
                    let get = try await browser.get(fixture.base + path)
                    let head = try await browser.head(fixture.base + path)
                    #expect(head.status == status, "HEAD \(path): \(head.status)")
                    #expect(get.status == status, "GET \(path): \(get.status)")
                    #expect(head.body.isEmpty, "HEAD \(path) has a body")
                    #expect(head.header("Content-Type") == get.header("Content-Type"), "HEAD \(path)")
                    #expect(head.header("Content-Length") == String(get.body.utf8.count), "HEAD \(path): \(head.header("Content-Length") ?? "none")")
                    #expect(head.header("Content-Security-Policy") == get.header("Content-Security-Policy"), "HEAD \(path)")
                }
                // The connection is still good after HEADs (no stray body bytes).
                #expect(try await browser.get(fixture.base + "/organisations/demo/me").status == 200)
            }
        }

        @Test("a tampered session cookie is not accepted, and POSTs without the CSRF token or from another origin are refused")
        func csrfAndTampering() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                _ = try await fixture.trackerSignIn(browser, email: "alice@example.com", password: "alice-password")
                _ = try await fixture.authorizeLibrary(browser, library: "ACTIVE", email: "alice@example.com", password: "alice-password")
                let url = fixture.base + "/organisations/demo/tracker/libraries/ACTIVE/deauthorise"
                let csrf = try await fixture.csrf(browser, on: "/organisations/demo/tracker")

                #expect(try await browser.post(url, []).status == 403)
                #expect(try await browser.post(url, [("csrf", "wrong" + csrf.dropFirst(5))]).status == 403)
                let crossSite = try await browser.post(url, [("csrf", csrf)], origin: "https://evil.example")
                #expect(crossSite.status == 403)
                #expect(visibleText(crossSite.body).contains("The form was not accepted"))
                #expect(try fixture.grants().count == 1, "a refused POST removed the grant")

                // A session cookie whose payload was changed (another person, more libraries) is ignored.
                let host = "127.0.0.1:\(fixture.web.port)"
                let cookie = try #require(browser.cookie("tokend_tracker", host: host))
                let parts = cookie.split(separator: ".")
                let payload = try #require(Data(base64Encoded: base64(String(parts[0]))))
                let changed = String(decoding: payload, as: UTF8.self).replacingOccurrences(of: "ALICE", with: "BOB")
                let forged = Data(changed.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                    .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "") + "." + parts[1]
                browser.setCookie("tokend_tracker", forged, host: host)
                let page = visibleText(try await browser.get(fixture.base + "/organisations/demo/tracker").body)
                #expect(page.contains("Sign in with iManage"))
                #expect(try await browser.post(url, [("csrf", csrf)]).status == 403)
                #expect(try fixture.grants().count == 1)
            }
        }

        @Test("no token or code ever appears in a page, or in a URL the daemon builds after the callback")
        func noSecretsInPages() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                let callback = try await fixture.authorizeUser(browser, email: "bob@example.com", password: "bob-password")
                _ = try await browser.get(fixture.base + "/organisations/demo/me")
                _ = try await fixture.trackerSignIn(browser, email: "alice@example.com", password: "alice-password")
                let library = try await fixture.authorizeLibrary(browser, library: "ACTIVE", email: "alice@example.com", password: "alice-password")
                _ = try await browser.get(fixture.base + "/organisations/demo/tracker")

                var secrets: [String] = ["demo-secret"]
                for key in [GrantKey.user("BOB", of: "demo"), .library("ACTIVE", of: "demo")] {
                    let tokens = try #require(try fixture.store.tokens(for: key))
                    secrets += [tokens.refreshToken, tokens.accessToken].compactMap { $0 }
                }
                let codes = browser.pages.compactMap { queryItems(of: $0.url)["code"] }
                #expect(codes.count == 3, "the three callbacks: user, Tracker sign-in, library")
                secrets += codes
                let ours = browser.pages.filter { $0.url.hasPrefix(fixture.base) }
                for page in ours {
                    for secret in secrets {
                        #expect(!page.body.contains(secret), "a secret in the page \(page.url)")
                        #expect(!(page.location ?? "").contains(secret), "a secret in the redirect from \(page.url)")
                    }
                }
                #expect(callback.location == "/organisations/demo/me?authorised=1")
                #expect(library.location == "/organisations/demo/tracker?authorised=ACTIVE")
            }
        }

        private func base64(_ base64url: String) -> String {
            var text = base64url.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            text += String(repeating: "=", count: (4 - text.count % 4) % 4)
            return text
        }
    }
}
