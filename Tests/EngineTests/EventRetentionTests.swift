import Foundation
import Logging
import Testing
import TokendPolicy
@testable import TokendEngine
@testable import TokendStore

/// The daemon's daily pruning by `[history] keep_days`, on an injected clock.
@Suite struct EventRetentionTests {
    static let start = Date(timeIntervalSince1970: 1_900_000_000)

    /// A store whose grant ACTIVE has events 30, 20 and 5 days before `start`, and BOB one 90 days before.
    func seeded() throws -> (SQLiteGrantStore, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-retention-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("tokend.sqlite").path
        let store = try SQLiteGrantStore(path: path, key: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let raw = try SQLiteConnection(path: path, readOnly: false)
        let events: [(GrantKey, Double)] = [
            (.library("ACTIVE", of: "acme"), 30), (.library("ACTIVE", of: "acme"), 20), (.library("ACTIVE", of: "acme"), 5),
            (.user("BOB", of: "acme"), 90),
        ]
        for (key, days) in events {
            try SQLiteGrantStore.insertEvent(raw, key: key, at: Self.start.addingTimeInterval(-days * 86_400), status: .authorized,
                                       previous: nil, failure: nil, message: "\(key.subject) \(Int(days))")
        }
        return (store, directory)
    }

    @Test("a run prunes in small batches what keep_days says, never a grant's latest event; the clock moving on prunes more")
    func pruneNowFollowsTheClock() async throws {
        let (store, directory) = try seeded()
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = TestClock(Self.start)
        let retention = EventRetention(store: store, keepDays: 10, logger: Logger(label: "test"), now: TestClock.reading(of: clock), batchSize: 1)
        #expect(await retention.pruneNow() == 2)
        #expect(try store.events().map(\.message) == ["BOB 90", "ACTIVE 5"])
        clock.advance(by: 30 * 86_400)
        #expect(await retention.pruneNow() == 0, "each grant keeps its latest event")
        #expect(try store.events().count == 2)
    }

    @Test("the timer runs it without being asked: once soon after start")
    func timerRunsIt() async throws {
        let (store, directory) = try seeded()
        defer { try? FileManager.default.removeItem(at: directory) }
        let retention = EventRetention(store: store, keepDays: 1, logger: Logger(label: "test"), now: { Self.start })
        retention.start(firstRunAfter: 0.05, every: 3_600)
        defer { retention.stop() }
        var remaining = try store.events().count
        for _ in 0..<100 where remaining != 2 {
            try await Task.sleep(for: .milliseconds(50))
            remaining = try store.events().count
        }
        #expect(remaining == 2, "the first run did not come within 5 s")
    }

    @Test("keep_days is read at each run, so a reload applies")
    func keepDaysIsReadEachRun() async throws {
        let (store, directory) = try seeded()
        defer { try? FileManager.default.removeItem(at: directory) }
        let retention = EventRetention(store: store, keepDays: 100, logger: Logger(label: "test"), now: { Self.start })
        #expect(await retention.pruneNow() == 0)
        retention.keepDays = 25
        #expect(await retention.pruneNow() == 1)
        #expect(try store.events().map(\.message) == ["BOB 90", "ACTIVE 20", "ACTIVE 5"])
    }
}
