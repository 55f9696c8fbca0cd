import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TokendStore
import TokendTestSupport
@testable import TokendWeb

extension WebPageTests {
    /// Sign-ins in progress live in the browsers, not in the daemon: a flood of starts from one
    /// address can neither push out a real person's sign-in nor grow the daemon's memory.
    @Suite("Sign-ins in progress cannot be flooded away", .serialized)
    struct SignInFloodTests {
        /// Starts through the code the `/authorise` route runs (`startAuthorisation`), in the server.
        static let startsInProcess = 100_000
        /// Starts over real HTTP from one address (8 connections at once); 100,000 of them take
        /// about 100 s in a debug build, too long for the suite.
        static let startsOverHTTP = 5_000

        @Test("100,000 starts of /authorise (5,000 of them over HTTP): nothing kept per start, and a sign-in started before finishes after")
        func floodOfStarts() async throws {
            try await withWebFixture { fixture in
                let person = TestBrowser()
                let started = try await person.get(fixture.base + "/organisations/demo/authorise")
                #expect(started.status == 303)
                let residentBefore = try residentBytes()

                let environment = fixture.web.environment
                let organisation = try environment.organisation("demo")
                var redirects = 0
                for _ in 0..<Self.startsInProcess {
                    if try environment.startAuthorization(.user, organisation: organisation).status == .seeOther { redirects += 1 }
                }
                #expect(redirects == Self.startsInProcess)

                let url = fixture.base + "/organisations/demo/authorise"
                try await withThrowingTaskGroup(of: Int.self) { group in
                    let lanes = 8
                    for lane in 0..<lanes {
                        group.addTask {
                            var redirects = 0
                            for _ in stride(from: lane, to: Self.startsOverHTTP, by: lanes) {
                                let response = try await testHTTPClient.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
                                _ = try await response.body.collect(upTo: 64 * 1024)
                                if response.status.code == 303 { redirects += 1 }
                            }
                            return redirects
                        }
                    }
                    var redirects = 0
                    for try await count in group { redirects += count }
                    #expect(redirects == Self.startsOverHTTP, "every start over HTTP was answered with a redirect to iManage")
                }
                let residentAfter = try residentBytes()
                #expect(environment.states.spent.count == 0, "the daemon kept something per start")
                let growth = residentAfter - residentBefore
                #expect(growth < 32 * 1024 * 1024, "resident memory grew by \(growth / 1024) KiB over the starts")

                // The person finishes the sign-in they started before the flood.
                let back = try await fixture.throughIManage(started, browser: person, email: "bob@example.com", password: "bob-password")
                let callback = try await person.get(back)
                #expect(callback.location == "/organisations/demo/me?authorised=1", "\(callback.status): \(visibleText(callback.body))")
                #expect(try fixture.store.record(for: .user("BOB", of: "demo"))?.status == .authorized)
                #expect(environment.states.spent.count == 1, "only the completed sign-in is remembered (as spent)")
            }
        }

        /// The process's resident memory, from `/proc/self/statm` (pages × page size).
        private func residentBytes() throws -> Int {
            let text = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
            let fields = text.split(separator: " ")
            let pages = try #require(fields.count > 1 ? Int(fields[1]) : nil)
            return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        }
    }
}
