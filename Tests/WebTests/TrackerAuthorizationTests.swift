import Foundation
import Testing
import TokendPolicy
import TokendStore
import TokendTestSupport

extension WebPageTests {
    @Suite("The Tracker library authorization page, end to end over HTTP", .serialized)
    struct TrackerAuthorizationTests {
        @Test("an NRTADMIN signs in, sees only their libraries, authorizes two, sees the names, deauthorizes one")
        func libraryFlow() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                let before = try await browser.get(fixture.base + "/organisations/demo/tracker")
                #expect(visibleText(before.body).contains("Sign in with iManage"))

                let signedIn = try await fixture.trackerSignIn(browser, email: "alice@example.com", password: "alice-password")
                #expect(signedIn.status == 303)
                #expect(signedIn.location == "/organisations/demo/tracker")
                #expect(try fixture.grants().isEmpty, "signing in to the Tracker page stores nothing")

                let page = visibleText(try await browser.get(fixture.base + "/organisations/demo/tracker").body)
                #expect(page.contains("Signed in as Alice Admin"))
                #expect(page.contains("ACTIVE Unauthorized"), "\(page)")
                #expect(page.contains("ARCHIVE Unauthorized"))
                #expect(!page.contains("LITIGATION"), "a library where Alice is not NRTADMIN is offered")

                // Authorize asks iManage with the email as login_hint.
                let pressed = try await fixture.pressAuthorize(browser, library: "ACTIVE", email: "alice@example.com")
                #expect(queryItems(of: try #require(pressed.location))["login_hint"] == "alice@example.com")
                let back = try await browser.get(try await fixture.throughIManage(pressed, browser: browser, email: "alice@example.com", password: "alice-password"))
                #expect(back.location == "/organisations/demo/tracker?authorised=ACTIVE")
                let archive = try await fixture.authorizeLibrary(browser, library: "ARCHIVE", email: "alice@example.com", password: "alice-password")
                #expect(archive.location == "/organisations/demo/tracker?authorised=ARCHIVE")

                let after = visibleText(try await browser.get(fixture.base + back.location!).body)
                #expect(after.contains("Library ACTIVE is authorized"))
                #expect(after.contains("ACTIVE Authorized Alice Admin alice@example.com"), "\(after)")
                #expect(after.contains("ARCHIVE Authorized Alice Admin"))

                let active = try #require(try fixture.store.record(for: .library("ACTIVE", of: "demo")))
                #expect(active.authorizedBy?.userID == "ALICE")
                #expect(active.nrtadminCheckedAt != nil, "stored after the NRTADMIN check")
                #expect(active.status == .authorized)

                // Deauthorize on the table is a link to a confirmation page; nothing is removed before it is confirmed.
                let table = try await browser.get(fixture.base + "/organisations/demo/tracker")
                #expect(!table.body.contains("action=\"/organisations/demo/tracker/libraries/ACTIVE/deauthorise\""), "the table deauthorizes at one press")
                let confirm = try await browser.get(fixture.base + "/organisations/demo/tracker/libraries/ACTIVE/deauthorise")
                #expect(confirm.status == 200)
                #expect(visibleText(confirm.body).contains("Deauthorize library ACTIVE?"), "\(visibleText(confirm.body))")
                #expect(confirm.body.contains("action=\"/organisations/demo/tracker/libraries/ACTIVE/deauthorise\""))
                #expect(try fixture.grants().count == 2, "asking to confirm removed the grant")
                let notOffered = try await browser.get(fixture.base + "/organisations/demo/tracker/libraries/LITIGATION/deauthorise")
                #expect(notOffered.status == 403)
                let csrf = try #require(hiddenFields(in: confirm.body).first { $0.0 == "csrf" }?.1)
                // As Chromium sends it under Referrer-Policy: no-referrer.
                let removed = try await browser.post(fixture.base + "/organisations/demo/tracker/libraries/ACTIVE/deauthorise", [("csrf", csrf)], origin: "null")
                #expect(removed.status == 303)
                #expect(try fixture.grants().map(\.key) == [.library("ARCHIVE", of: "demo")])
                let final = visibleText(try await browser.get(fixture.base + removed.location!).body)
                #expect(final.contains("Library ACTIVE was deauthorized"))
                #expect(final.contains("ACTIVE Unauthorized"))
                #expect(final.contains("ARCHIVE Authorized Alice Admin"))
            }
        }

        @Test("a library can be authorized by another NRTADMIN's email, and re-authorizing replaces the grant")
        func reauthorizeReplaces() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                _ = try await fixture.trackerSignIn(browser, email: "alice@example.com", password: "alice-password")
                _ = try await fixture.authorizeLibrary(browser, library: "ACTIVE", email: "alice@example.com", password: "alice-password")
                let first = try fixture.store.tokens(for: .library("ACTIVE", of: "demo"))?.refreshToken
                _ = try await fixture.authorizeLibrary(browser, library: "ACTIVE", email: "ALICE@example.com", password: "alice-password")
                #expect(try fixture.grants().count == 1)
                #expect(try fixture.store.tokens(for: .library("ACTIVE", of: "demo"))?.refreshToken != first)
            }
        }

        @Test("a library not offered to this NRTADMIN cannot be authorized or deauthorized by a crafted POST")
        func libraryNotOffered() async throws {
            try await withWebFixture { fixture in
                // BOB's grant of LITIGATION exists; ALICE is not its NRTADMIN.
                let bob = TestBrowser()
                _ = try await fixture.trackerSignIn(bob, email: "bob@example.com", password: "bob-password")
                _ = try await fixture.authorizeLibrary(bob, library: "LITIGATION", email: "bob@example.com", password: "bob-password")
                #expect(try fixture.grants().count == 1)

                let alice = TestBrowser()
                _ = try await fixture.trackerSignIn(alice, email: "alice@example.com", password: "alice-password")
                let csrf = try await fixture.csrf(alice, on: "/organisations/demo/tracker")
                let deauthorize = try await alice.post(fixture.base + "/organisations/demo/tracker/libraries/LITIGATION/deauthorise", [("csrf", csrf)])
                #expect(deauthorize.status == 403)
                #expect(visibleText(deauthorize.body).contains("Library not offered"))
                let authorize = try await alice.post(
                    fixture.base + "/organisations/demo/tracker/libraries/LITIGATION/authorise", [("csrf", csrf), ("email", "alice@example.com")])
                #expect(authorize.status == 403)
                #expect(try fixture.grants().map(\.key) == [.library("LITIGATION", of: "demo")])
                #expect(try fixture.store.record(for: .library("LITIGATION", of: "demo"))?.authorizedBy?.userID == "BOB")
            }
        }
    }
}
