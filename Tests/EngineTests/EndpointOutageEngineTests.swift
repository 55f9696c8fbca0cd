import Foundation
import IManageClient
import IManageEmulator
import Logging
import Testing
import TokendConfig
import TokendPolicy
@testable import TokendStore
@testable import TokendEngine
import TokendTestSupport

/// The outage rules in the engine, against the emulator over real HTTP (issue 12): a token endpoint
/// that fails for several grants is down; one probe goes per backoff step, every other grant sends
/// nothing, keeps its access token, turns `expired` on time; when it answers, all are released.
@Suite("Endpoint outages in the engine, over real HTTP", .serialized)
struct EndpointOutageEngineTests {
    /// Outage settings scaled to a test: released grants 0.5 s apart, probes at most 1 s apart once tokens ran out.
    static let scaled = """
        outage_grants = 3
        outage_window_seconds = 30
        outage_probe_max_seconds = 1
        recovery_refreshes_per_second = 2
        """

    /// On the injected clock, five user grants of one endpoint: a 503 for all takes it down after
    /// three failures; then three backoff steps, one request each (the emulator counts them); the
    /// waiting grants keep their tokens and turn `expired` at their tokens' expiry with no request;
    /// when the probe succeeds they are refreshed soonest-expiring first, 0.5 s apart. The journal
    /// (info and up) has one line for the outage and one for its end, none per waiting grant.
    @Test("during an outage one request per backoff step reaches the endpoint; waiting grants send nothing, expire on time, then are released in order")
    func oneProbePerStep() async throws {
        let users = ["U1", "U2", "U3", "U4", "U5"]
        let clock = TestClock(Date())
        let logs = LogCapture()
        let (fixture, _) = try await EngineFixture.start(
            accessTokenLifetime: 20, refreshSettings: Self.scaled, kind: .user, grants: users.map { ("demo", $0) },
            logger: logs.logger(level: .info), clock: clock)
        func settled() throws -> Bool { try fixture.store.records().allSatisfy { $0.inFlightSince == nil } }
        func scheduled() throws -> [GrantRecord] { try fixture.store.records().filter { $0.nextRefreshAt != nil } }
        func probeSettled(_ failedProbes: Int) throws -> Bool {
            guard let outage = try fixture.store.endpointOutages().first, let next = outage.nextProbeAt,
                  let probe = try scheduled().first else { return false }
            return outage.failedProbes == failedProbes && abs((probe.nextRefreshAt ?? .distantPast).timeIntervalSince(next)) < 0.001
        }
        try await fixture.closing {
            clock.advance(by: 1)
            fixture.tick()
            try #require(try await fixture.wait(upTo: 10) {
                try settled() && fixture.store.records().allSatisfy { $0.status == .authorized && $0.accessExpiresAt != nil }
            })
            var tokens: [GrantKey: String] = [:]
            for record in try fixture.store.records() { tokens[record.key] = try fixture.store.tokens(for: record.key)?.accessToken }

            let faultID = try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .token))
            fixture.emulator.resetStats()
            let allDue = try #require(try fixture.store.records().compactMap(\.nextRefreshAt).max())
            clock.set(allDue.addingTimeInterval(0.001))
            fixture.tick()
            // Down, with one probe, and the same probe a moment later: the grants that failed as it went
            // down are all followed (on a loaded machine their outcomes come in over a while).
            var probeSeen: Int64?
            let down = try await fixture.wait(upTo: 10) {
                guard try settled(), try fixture.store.endpointOutages().count == 1, try scheduled().count == 1 else { return false }
                let probe = try scheduled().first?.id
                defer { probeSeen = probe }
                return probe == probeSeen
            }
            let shown = try fixture.store.records().map { "\($0.key.subject) \($0.status.rawValue) next \($0.nextRefreshAt.map { "\($0.timeIntervalSince(clock.now))" } ?? "-")" }
            try #require(down, "not down with one probe: \(shown)")
            let firstRound = fixture.emulator.stats().total(.token)
            #expect(firstRound >= 3 && firstRound <= 5, "\(firstRound) requests before the endpoint was down")
            let outage = try #require(try fixture.store.endpointOutages().first)
            #expect(outage.endpoint == EndpointOutage.name(of: try #require(fixture.engine.organisation(named: "demo")).tokenURL))
            #expect(outage.lastFailure.httpStatus == 503)
            let probe = try #require(try scheduled().first)
            let waiting = try fixture.store.records().filter { $0.id != probe.id }
            for record in try fixture.store.records() {
                #expect(record.status == .retrying, "\(record.key.subject): \(record.status)")
                #expect(try fixture.store.tokens(for: record.key)?.accessToken == tokens[record.key], "the still-valid access token is kept")
            }

            for round in 1...3 {
                let last = clock.now
                let next = try #require(try fixture.store.record(id: probe.id)?.nextRefreshAt)
                let delay = next.timeIntervalSince(last)
                #expect(delay >= 1 - 0.01 && delay <= 2 + 0.01, "round \(round): probe \(delay) s after the last, not on the 1-2 s backoff")
                #expect(try await fixture.attempt(probe.key, at: next, on: clock), "round \(round): the probe did not go at \(next)")
                #expect(fixture.emulator.stats().total(.token) == firstRound + round, "round \(round): more than one request per backoff step")
                // Its outcome is written first, then the outage and the probe's next moment.
                #expect(try await fixture.wait(upTo: 5) { try probeSettled(round) }, "round \(round): the failed probe was not recorded")
                #expect(try scheduled().map(\.id) == [probe.id], "round \(round): a waiting grant has a retry of its own")
            }

            // Each waiting grant's token runs out: it turns expired then, with no request of its own.
            for record in waiting.sorted(by: { $0.accessExpiresAt! < $1.accessExpiresAt! }) {
                let expiry = try #require(record.accessExpiresAt)
                let probeDue = try #require(try fixture.store.record(id: probe.id)?.nextRefreshAt)
                let before = fixture.emulator.stats().total(.token)
                clock.set(max(clock.now, expiry.addingTimeInterval(0.001)))
                fixture.tick()
                #expect(try await fixture.wait(upTo: 10) { try fixture.status(record.key) == .expired && settled() },
                        "\(record.key.subject) did not turn expired at its token's expiry")
                let probed = probeDue <= clock.now ? 1 : 0
                #expect(fixture.emulator.stats().total(.token) <= before + probed, "a waiting grant sent a request")
            }
            // Once tokens have run out, the probe goes at most 1 s apart (outage_probe_max_seconds).
            let lastProbe = try #require(try fixture.store.record(id: probe.id)?.lastAttemptAt)
            let next = try #require(try fixture.store.record(id: probe.id)?.nextRefreshAt)
            #expect(next.timeIntervalSince(lastProbe) <= 1 + 0.01 || next <= clock.now.addingTimeInterval(1.01))

            // The endpoint answers: the probe is authorised, the others follow soonest-expiring first, 0.5 s apart.
            fixture.emulator.removeFault(id: faultID)
            #expect(try await fixture.attempt(probe.key, at: max(next, clock.now), on: clock))
            let resumedAt = clock.now
            #expect(try fixture.status(probe.key) == .authorized)
            #expect(try await fixture.wait(upTo: 5) { try fixture.store.endpointOutages().isEmpty }, "the endpoint is still shown down after it answered")
            let order = waiting.sorted { ($0.accessExpiresAt!, $0.id) < ($1.accessExpiresAt!, $1.id) }
            for (index, record) in order.enumerated() {
                let moment = resumedAt.addingTimeInterval(Double(index) * 0.5)
                if index > 0 {
                    clock.set(moment.addingTimeInterval(-0.1))
                    fixture.tick()
                    try await Task.sleep(for: .milliseconds(100))
                    #expect(try fixture.status(record.key) == .expired, "grant \(index) released before its turn")
                    clock.set(moment.addingTimeInterval(0.001))
                    fixture.tick()
                }
                #expect(try await fixture.wait(upTo: 10) {
                    try fixture.store.record(id: record.id).map { $0.status == .authorized && $0.inFlightSince == nil } == true
                }, "waiting grant \(index) was not released at \(moment)")
            }
            let lines = logs.all
            #expect(lines.filter { $0.contains("is down:") }.count == 1, "\(lines)")
            #expect(lines.filter { $0.contains("answers again") }.count == 1, "\(lines)")
            // Only the status changes of the grants whose own failures came before the one that took the
            // endpoint down (two, or more when a loaded machine let more requests out first).
            let perGrant = lines.filter { line in line.contains("→") && waiting.contains { line.contains("user \($0.key.subject):") } }
            #expect(perGrant.count <= firstRound - 1, "waiting grants logged one by one: \(perGrant)")
            #expect(try fixture.store.events(EventFilter(subject: order.last!.key.subject)).map(\.status).suffix(3) == [.retrying, .expired, .authorized],
                    "the history keeps each grant's own changes")
        }
    }

    /// One grant's requests failing again and again (asked for at once, so only it is due; the
    /// emulator fails the next request each time): never an outage; it retries on its own backoff,
    /// one request each, and another grant of the endpoint is let through and refreshed.
    @Test("a single grant's failures do not mark the endpoint down")
    func singleGrantNeverDown() async throws {
        let users = ["U1", "U2", "U3"]
        let clock = TestClock(Date())
        let (fixture, _) = try await EngineFixture.start(
            accessTokenLifetime: 600, refreshSettings: Self.scaled, kind: .user, grants: users.map { ("demo", $0) }, clock: clock)
        try await fixture.closing {
            clock.advance(by: 1)
            fixture.tick()
            try #require(try await fixture.wait(upTo: 10) {
                try fixture.store.records().allSatisfy { $0.status == .authorized && $0.accessExpiresAt != nil && $0.inFlightSince == nil }
            })
            let grants = try fixture.store.records()
            let failing = grants[0], healthy = grants[1]
            fixture.emulator.resetStats()
            // The others are due at their half-life, about 300 s on; this one is asked for now.
            guard case .scheduled(_, var next, _) = try await fixture.engine.requestRefresh(failing.key) else {
                Issue.record("the refresh was not scheduled")
                return
            }
            for round in 1...5 {
                _ = try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .token, count: 1))
                #expect(try await fixture.attempt(failing.key, at: next, on: clock), "round \(round): no attempt at \(next)")
                #expect(try fixture.status(failing.key) == .retrying)
                #expect(fixture.emulator.stats().total(.token) == round, "round \(round): not one request per retry")
                #expect(try fixture.store.endpointOutages().isEmpty, "round \(round): one grant's failures took the endpoint down")
                next = try #require(try fixture.store.record(id: failing.id)?.nextRefreshAt)
            }
            // Another grant of the endpoint is let through (its request reaches the emulator) and refreshed.
            guard case .scheduled(_, let at, _) = try await fixture.engine.requestRefresh(healthy.key) else {
                Issue.record("the refresh was not scheduled")
                return
            }
            #expect(try await fixture.attempt(healthy.key, at: max(at, clock.now), on: clock))
            #expect(try fixture.status(healthy.key) == .authorized)
            #expect(fixture.emulator.stats().total(.token) == 6)
        }
    }
}
