import Foundation
import Testing
import TokendPolicy
import TokendStore
import TokendTestSupport

extension WebPageTests {
    /// The organisation `demo` is iManage customer 1; ADMIN2 (NRTADMIN of customer 2's own ACTIVE)
    /// and USER2 are people of customer 2, signing in at the same iManage host.
    @Suite("The pages admit no one of another iManage customer", .serialized)
    struct TenantWebTests {
        @Test("Authorise: a person of customer 2 stores nothing, and is told which customer they signed in to")
        func authorizeFromAnotherCustomer() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                let answer = try await fixture.authorizeUser(browser, email: "user2@customer2.example", password: "user2-password")
                let page = try await fixture.shownFailure(answer, browser: browser)
                let text = visibleText(page.body)
                #expect(page.status == 403)
                #expect(text.contains("Another firm's iManage account"), "\(text)")
                #expect(text.contains("You signed in to iManage customer 2; this organisation (demo) is customer 1"))
                #expect(try fixture.grants().isEmpty)
                // Customer 1's person still can.
                let bob = try await fixture.authorizeUser(TestBrowser(), email: "bob@example.com", password: "bob-password")
                #expect(bob.location == "/organisations/demo/me?authorised=1")
                #expect(try fixture.grants().map(\.key) == [.user("BOB", of: "demo")])
            }
        }

        @Test("Tracker: customer 2's NRTADMIN cannot sign in, nor replace customer 1's ACTIVE through an Authorize button")
        func trackerFromAnotherCustomer() async throws {
            try await withWebFixture { fixture in
                let intruder = TestBrowser()
                let signIn = try await fixture.trackerSignIn(intruder, email: "admin2@customer2.example", password: "admin2-password")
                let refused = visibleText(try await fixture.shownFailure(signIn, browser: intruder).body)
                #expect(refused.contains("You signed in to iManage customer 2"), "\(refused)")

                // Alice (customer 1) authorises ACTIVE, then asks for it to be authorised by ADMIN2's email.
                let alice = TestBrowser()
                #expect(try await fixture.trackerSignIn(alice, email: "alice@example.com", password: "alice-password").status == 303)
                let authorized = try await fixture.authorizeLibrary(alice, library: "ACTIVE", email: "alice@example.com", password: "alice-password")
                #expect(authorized.status == 303)
                let replaced = try await fixture.authorizeLibrary(
                    alice, library: "ACTIVE", email: "admin2@customer2.example", password: "admin2-password")
                let text = visibleText(try await fixture.shownFailure(replaced, browser: alice).body)
                #expect(text.contains("this organisation (demo) is customer 1"), "\(text)")
                let grants = try fixture.grants()
                #expect(grants.count == 1)
                #expect(grants.first?.key == .library("ACTIVE", of: "demo"))
                #expect(grants.first?.authorizedBy?.userID == "ALICE")
            }
        }
    }
}
