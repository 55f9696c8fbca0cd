import Foundation
import IManageEmulator
import Testing
import TokendPolicy
import TokendStore
import TokendTestSupport

/// `imanage-tokend refresh` against the daemon's parts in this process, as this process's user:
/// the exit codes the README gives (0 refreshed or, with `--no-wait`, scheduled; 1 tried and failed;
/// 2 no such grant or it waits for a person). 77 is in `APIAccessSocketTests`, which runs it as nobody.
@Suite("imanage-tokend refresh: exit 0, 1 and 2, and --no-wait", .serialized)
struct RefreshCommandExitTests {
    func refresh(_ fixture: APIFixture, _ arguments: [String]) async throws -> APIAccessSocketTests.Run {
        try await APIAccessSocketTests.run([APIAccessSocketTests.binary.path, "refresh", "--config",
                                           fixture.directory.appendingPathComponent("tokend.toml").path] + arguments)
    }

    @Test("refresh exits 0 refreshed, 1 failed, 2 for no grant and for a grant that waits for a person; --no-wait returns at once, scheduled")
    func exitCodes() async throws {
        let fixture = try await APIFixture.start(accessTokenLifetime: 600, minimumInterval: 0.1)
        try await withTeardown({ await fixture.stop() }) {
            let key = GrantKey.library("ACTIVE", of: "demo")
            #expect(try await fixture.wait(upTo: 15) { try fixture.store.record(for: key).map { $0.accessExpiresAt != nil && $0.inFlightSince == nil } == true })

            let refreshed = try await refresh(fixture, ["--organisation", "demo", "--library", "ACTIVE"])
            #expect(refreshed.status == 0, "\(refreshed.stderr)")
            #expect(refreshed.stdout.hasPrefix("refreshed library ACTIVE of demo: authorized"), "\(refreshed.stdout)")

            // --no-wait: iManage holds the answer back 6 s; the command returns well before that, scheduled,
            // exit 0 (its own start, a process on a loaded machine, can take a second or two).
            let delay = try fixture.emulator.addFault(Fault(.hang(seconds: 6, then: .gatewayTimeout), on: .token, count: 1))
            let started = Date()
            let scheduled = try await refresh(fixture, ["--organisation", "demo", "--library", "ACTIVE", "--no-wait"])
            let took = Date().timeIntervalSince(started)
            #expect(scheduled.status == 0, "\(scheduled.stderr)")
            #expect(scheduled.stdout.hasPrefix("refresh of library ACTIVE of demo scheduled at "), "\(scheduled.stdout)")
            #expect(took < 4.5, "--no-wait waited \(took) s, for the refresh's outcome")
            fixture.emulator.removeFault(id: delay)
            #expect(try await fixture.wait(upTo: 10) { try fixture.store.record(for: key)?.inFlightSince == nil })

            fixture.emulator.resetStats()
            let failing = try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .token))
            let failed = try await refresh(fixture, ["--organisation", "demo", "--library", "ACTIVE"])
            #expect(failed.status == 1, "\(failed.stdout) \(failed.stderr)")
            #expect(failed.stderr.contains("was tried and is retrying") && failed.stderr.contains("503"), "\(failed.stderr)")
            fixture.emulator.removeFault(id: failing)

            let missing = try await refresh(fixture, ["--organisation", "demo", "--library", "NOPE"])
            #expect(missing.status == 2)
            #expect(missing.stderr.contains("no grant for library NOPE of demo"), "\(missing.stderr)")

            // A grant of its own (the engine leaves it alone for an hour), so no retry of ACTIVE races the status.
            let lost = GrantKey.library("LOST", of: "demo")
            try await fixture.store.saveAuthorization(
                try APIFixture.authorization(fixture.emulator, key: lost, nextRefreshAt: Date().addingTimeInterval(3600)))
            let id = try #require(try fixture.store.record(for: lost)).id
            _ = try await fixture.store.setStatus(.needsReauth, ofGrants: [id], message: "the refresh token was refused")
            let person = try await refresh(fixture, ["--organisation", "demo", "--library", "LOST"])
            #expect(person.status == 2)
            #expect(person.stderr.contains("was not refreshed") && person.stderr.contains("authorise it again"), "\(person.stderr)")
        }
    }
}
