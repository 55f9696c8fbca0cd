import Foundation
import IManageEmulator
import Logging
import Testing
import TokendPolicy
import TokendTestSupport
@testable import TokendStore
@testable import TokendEngine

/// Found by the fault matrix: with the disk full, every grant logged an error every backoff step
/// (a thousand grants would flood the journal), always after the same short delay.
@Suite("The refresh engine with a database it cannot write", .serialized)
struct UnwritableStoreTests {
    /// On the injected clock: two rounds in which every grant falls due and is held back, instead of
    /// sleeping through two refresh periods.
    @Test("nothing is sent, the trouble is said once, and refreshing resumes (said once) when writes work again")
    func heldBackAndSaidOnce() async throws {
        let logs = LogCapture(lines: .levelAndMessage)
        let keys = ["ACTIVE", "ARCHIVE"].map { GrantKey.library($0, of: "demo") }
        let clock = TestClock(Date())
        let (fixture, _) = try await EngineFixture.start(
            accessTokenLifetime: 3, grants: keys.map { ("demo", $0.subject) }, logger: logs.logger(level: .debug), clock: clock)
        try await fixture.closing {
            // The start-up spreads overdue grants 10 ms apart (100 a second): the second is due a little later.
            clock.advance(by: 0.1)
            fixture.tick()
            try #require(try await fixture.wait(upTo: 10) { try keys.allSatisfy { try fixture.store.tokens(for: $0)?.accessToken != nil } })

            // As a read-only file or a full disk would: every change of a grant on the engine's connection
            // fails (a temporary trigger lives on that connection only, and can be dropped again).
            try await fixture.store.write {
                try $0.execute("CREATE TEMP TRIGGER disk_full BEFORE UPDATE ON grants BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END")
            }
            fixture.emulator.resetStats()
            let heldBack = { logs.all.filter { $0.contains("the database cannot be written") || $0.contains("could not refresh grant") }.count }
            // Each round, both grants are due (their refresh at half of 3 s, then the 1-2 s backoff) and held back.
            for round in 1...2 {
                clock.advance(by: 3)
                fixture.tick()
                #expect(try await fixture.wait(upTo: 10) { heldBack() == 2 * round }, "round \(round): \(logs.all)")
            }
            #expect(fixture.emulator.stats().total(.token) == 0, "a request went out whose outcome could not be recorded")
            let trouble = logs.all.filter { $0.contains("the database cannot be written") }
            #expect(trouble.count == 1, "\(logs.all)")
            #expect(trouble.first?.hasPrefix("error") == true)

            try await fixture.store.write { try $0.execute("DROP TRIGGER temp.disk_full") }
            clock.advance(by: 3)
            fixture.tick()
            #expect(try await fixture.wait(upTo: 10) {
                try keys.allSatisfy { try fixture.store.record(for: $0)?.lastRefreshAt.map { abs($0.timeIntervalSince(clock.now)) < 0.001 } == true }
            })
            // Said once, just after the first refresh that could be written.
            #expect(try await fixture.wait(upTo: 5) { logs.all.contains { $0.contains("can be written again") } }, "\(logs.all)")
            #expect(logs.all.filter { $0.contains("can be written again") }.count == 1, "\(logs.all)")
        }
    }
}
