import Foundation
import IManageEmulator
import Testing
import TokendPolicy
import TokendStore
import TokendTestSupport

extension WebPageTests {
    /// Every error a person can meet in the flows gives a page that says what happened and what to
    /// do, and the store holds nothing new.
    @Suite("Error pages of the authorisation flows", .serialized)
    struct ErrorPageTests {
        /// Checks that a page is an error page with `status` whose text contains every one of `phrases`.
        func expectPage(
            _ answer: PageAnswer, status: Int, _ phrases: String..., sourceLocation: SourceLocation = #_sourceLocation
        ) {
            let text = visibleText(answer.body)
            #expect(answer.status == status, "status \(answer.status): \(text)", sourceLocation: sourceLocation)
            #expect(text.contains("What to do:"), "no advice in: \(text)", sourceLocation: sourceLocation)
            for phrase in phrases {
                #expect(text.contains(phrase), "“\(phrase)” not in: \(text)", sourceLocation: sourceLocation)
            }
        }

        @Test("a failure after the callback is shown at a clean address, and the sign-in's cookie is cleared")
        func failureAtACleanAddress() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                let back = try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password")
                let code = try #require(queryItems(of: back)["code"])
                let state = try #require(queryItems(of: back)["state"])
                _ = try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .token))

                let answer = try await browser.get(back)
                #expect(answer.status == 303, "the failure was shown at the callback's address: \(visibleText(answer.body))")
                #expect(answer.location == "/oauth/failed")
                for line in [answer.location ?? ""] + answer.setCookies {
                    #expect(!line.contains(code) && !line.contains(state), "the code or state went on: \(line)")
                }
                let cleared = answer.setCookies(prefix: "tokend_flow_")
                #expect(cleared.count == 1 && cleared.allSatisfy { $0.lowercased().contains("max-age=0") && $0.contains("Path=/oauth/callback") }, "\(cleared)")
                let note = try #require(answer.setCookie("tokend_failure"))
                #expect(note.contains("HttpOnly") && note.contains("Path=/oauth/failed") && note.lowercased().contains("max-age=300"), "\(note)")

                let page = try await browser.get(fixture.base + "/oauth/failed")
                expectPage(page, status: 502, "iManage could not be reached", "Authorise again")
                expectPage(try await browser.get(fixture.base + "/oauth/failed"), status: 502, "iManage could not be reached")
                let elsewhere = try await TestBrowser().get(fixture.base + "/oauth/failed")
                expectPage(elsewhere, status: 404, "Nothing to show here")
                #expect(try fixture.grants().isEmpty)
            }
        }

        @Test("denied consent")
        func deniedConsent() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                let back = try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "", action: "deny")
                #expect(queryItems(of: back)["error"] == "access_denied")
                expectPage(try await fixture.failedCallback(browser, back), status: 403, "Access was not allowed", "start again")
                #expect(try fixture.grants().isEmpty)
            }
        }

        @Test("a state used twice (reload of the callback)")
        func reusedState() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                let back = try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password")
                #expect(try await browser.get(back).status == 303)
                let grantBefore = try fixture.store.record(for: .user("BOB", of: "demo"))
                expectPage(try await fixture.failedCallback(browser, back), status: 400, "already used")
                #expect(try fixture.grants().count == 1)
                #expect(try fixture.store.record(for: .user("BOB", of: "demo"))?.updatedAt == grantBefore?.updatedAt)
            }
        }

        @Test("an expired state (the sign-in took longer than 10 minutes)")
        func expiredState() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                let back = try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password")
                fixture.clock.advance(by: 11 * 60)
                expectPage(try await fixture.failedCallback(browser, back), status: 400, "This sign-in has expired")
                #expect(try fixture.grants().isEmpty)
            }
        }

        @Test("a callback opened in another browser, and a state never issued")
        func otherBrowserAndUnknownState() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                let back = try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password")
                expectPage(try await fixture.failedCallback(TestBrowser(), back), status: 400, "started in another browser")
                expectPage(try await fixture.failedCallback(browser, fixture.base + "/oauth/callback?code=abc&state=forged"), status: 400, "not known")
                expectPage(try await fixture.failedCallback(browser, fixture.base + "/oauth/callback?code=abc"), status: 400, "no state")
                expectPage(try await fixture.failedCallback(browser, fixture.base + "/oauth/callback?code=a&code=b&state=x"), status: 400, "more than once")
                #expect(try fixture.grants().isEmpty)
                // The real browser can still finish its sign-in: the refusals above spent nothing.
                #expect(try await browser.get(back).location == "/organisations/demo/me?authorised=1")
                #expect(try fixture.grants().count == 1)
            }
        }

        @Test("a code the token endpoint refuses")
        func refusedCode() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                let back = try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password")
                let state = try #require(queryItems(of: back)["state"])
                let page = try await fixture.failedCallback(browser, fixture.base + "/oauth/callback?code=not-a-code&state=\(state)")
                expectPage(page, status: 502, "iManage refused the authorisation", "Authorise again")
                #expect(try fixture.grants().isEmpty)
            }
        }

        @Test("an error iManage sends back is named when it reads as a code, and not repeated when it does not")
        func authorizeErrorCode() async throws {
            try await withWebFixture { fixture in
                for (error, shown) in [("invalid_scope", true), ("Zk3_pQ9xLmN2vB7cR4tY8wE1uI6oA5sD0fG-hJ3kL9z", false)] {
                    let browser = TestBrowser()
                    let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                    let authorizeURL = try #require(start.location)
                    let state = try #require(queryItems(of: authorizeURL)["state"])
                    let page = try await fixture.failedCallback(browser, fixture.base + "/oauth/callback?error=\(error)&state=\(state)")
                    expectPage(page, status: 502, "iManage refused the request", "Authorise again")
                    #expect(page.body.contains(error) == shown)
                    #expect(page.body.contains(error.prefix(12)) == shown)
                }
                #expect(try fixture.grants().isEmpty)
            }
        }

        @Test("the organisation's client secret refused")
        func clientRefused() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                let answer = try await fixture.shownFailure(
                    try await fixture.authorizeUser(browser, email: "bob@example.com", password: "bob-password", organisation: "wrong"), browser: browser)
                expectPage(answer, status: 502, "refused this daemon's client credentials", "client_secret_file")
                #expect(try fixture.grants().isEmpty)
            }
        }

        @Test("a different person signs in than the email asked for")
        func differentPerson() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                _ = try await fixture.trackerSignIn(browser, email: "alice@example.com", password: "alice-password")
                let answer = try await fixture.authorizeLibrary(
                    browser, library: "ACTIVE", email: "alice@example.com", signInAs: "carol@example.com", password: "carol-password")
                expectPage(try await fixture.shownFailure(answer, browser: browser), status: 403, "A different person signed in", "asked for alice@example.com", "Carol Clerk")
                #expect(try fixture.grants().isEmpty)
            }
        }

        @Test("a person who is not NRTADMIN: of the library authorized, and of any library at sign-in")
        func notNrtadmin() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                _ = try await fixture.trackerSignIn(browser, email: "alice@example.com", password: "alice-password")
                let answer = try await fixture.authorizeLibrary(browser, library: "ACTIVE", email: "bob@example.com", password: "bob-password")
                expectPage(try await fixture.shownFailure(answer, browser: browser), status: 403, "Not an NRTADMIN of ACTIVE", "bob@example.com")
                #expect(try fixture.grants().isEmpty)

                // Membership is checked with the new token at that moment, not from the sign-in.
                _ = try fixture.emulator.removeNRTAdmin(user: "ALICE", library: "ARCHIVE")
                let removed = try await fixture.authorizeLibrary(browser, library: "ARCHIVE", email: "alice@example.com", password: "alice-password")
                expectPage(try await fixture.shownFailure(removed, browser: browser), status: 403, "Not an NRTADMIN of ARCHIVE")
                #expect(try fixture.grants().isEmpty)

                let carol = TestBrowser()
                expectPage(try await fixture.shownFailure(try await fixture.trackerSignIn(carol, email: "carol@example.com", password: "carol-password"), browser: carol),
                           status: 403, "No library to authorise")
                #expect(visibleText(try await carol.get(fixture.base + "/organisations/demo/tracker").body).contains("Sign in with iManage"))
            }
        }

        @Test("a disabled organisation, and an unknown one")
        func disabledOrganisation() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                let authorize = try await browser.get(fixture.base + "/organisations/off/authorise")
                expectPage(authorize, status: 403, "switched off", "enable the organisation")
                #expect(authorize.location == nil)
                expectPage(try await browser.get(fixture.base + "/organisations/off/tracker"), status: 403, "switched off")
                expectPage(try await browser.get(fixture.base + "/organisations/off/tracker/sign-in"), status: 403, "switched off")
                expectPage(try await browser.get(fixture.base + "/organisations/nowhere/authorise"), status: 404, "no organisation called “nowhere”")
                #expect(try fixture.grants().isEmpty)
            }
        }

        @Test("iManage unreachable when the code is exchanged")
        func unreachable() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                let back = try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password")
                await fixture.emulator.stop()
                let page = try await fixture.failedCallback(browser, back)
                expectPage(page, status: 502, "iManage could not be reached", "127.0.0.1", "Try again in a few minutes")
                #expect(try fixture.grants().isEmpty)
            }
        }

        @Test("iManage failing after the code was accepted (discovery answers 503)")
        func discoveryFails() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                let start = try await browser.get(fixture.base + "/organisations/demo/authorise")
                let back = try await fixture.throughIManage(start, browser: browser, email: "bob@example.com", password: "bob-password")
                _ = try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .api))
                expectPage(try await fixture.failedCallback(browser, back), status: 502, "iManage could not be reached")
                #expect(try fixture.grants().isEmpty)
            }
        }
    }
}
