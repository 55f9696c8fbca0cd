import Foundation
import IManageClient
import IManageEmulator
import Logging
import Testing
import TokendConfig
import TokendPolicy
import TokendTestSupport
@testable import TokendStore
@testable import TokendEngine

/// A running engine over a real store and the emulator, with lifetimes of seconds.
@dynamicMemberLookup
struct EngineFixture {
    let running: RunningEngine
    subscript<Part>(dynamicMember part: KeyPath<RunningEngine, Part>) -> Part { running[keyPath: part] }

    /// `organisations`: name → client secret (a wrong one makes that organisation's client refused).
    static func start(
        accessTokenLifetime: Int = 4, minimumInterval: Double = 0.5, organisations: [String: String] = ["demo": "demo-secret"],
        refreshSettings: String = "", kind: GrantKind = .library, grants: [(organisation: String, library: String)],
        logger: Logger = Logger(label: "test"), clock: TestClock? = nil, startupRate: Double = 100
    ) async throws -> (EngineFixture, [GrantKey: String]) {
        let emulator = try await IManageEmulator.startForTest(accessTokenLifetime: accessTokenLifetime)

        let directory = try DaemonDirectory("tokend-engine")
        let key = directory.writeKey()
        for (name, secret) in organisations { directory.writeSecret("\(name)-secret", secret) }
        let configPath = try directory.writeConfiguration(TestConfiguration(
            refresh: TestConfiguration.quickRefresh(
                minimumInterval: minimumInterval, extra: ["startup_refreshes_per_second = \(startupRate)", refreshSettings]),
            organisations: organisations.keys.sorted().map { TestOrganisation($0, at: emulator.baseURL, clientSecretFile: "\($0)-secret") }))
        let configuration = try TokendConfiguration.load(path: configPath, environment: [:])

        let store = try SQLiteGrantStore(path: configuration.database, key: key)
        // Grants are authorised at the engine's "now" and overdue by a second, so on a test clock they are
        // refreshed at its first moment (a deadline even a microsecond ahead never comes on a clock that stands still).
        let now = TestClock.reading(of: clock)
        var tokens: [GrantKey: String] = [:]
        for grant in grants {
            let token = try emulator.mintRefreshToken()
            let grantKey = GrantKey(organisation: grant.organisation, kind: kind, subject: grant.library)
            tokens[grantKey] = token
            try await store.saveAuthorization(.seeded(
                grantKey, refreshToken: token, refreshLife: 86_400, nextRefreshAt: now().addingTimeInterval(-1), now: now()))
        }
        let running = try await RunningEngine.start(
            configuration: configuration, store: store, emulator: emulator, directory: directory.url, requestTimeout: 3, logger: logger,
            clientLogger: Logger(label: "test"), now: now)
        return (EngineFixture(running: running), tokens)
    }

    func status(_ key: GrantKey) throws -> GrantStatus? { try running.store.record(for: key)?.status }

    /// Waits until `condition` holds, polling every 50 ms, for at most `seconds`.
    func wait(upTo seconds: Double, until condition: () throws -> Bool) async throws -> Bool {
        try await eventually(upTo: seconds, condition)
    }

    /// Wakes the scheduler after a test moved its clock: its timer runs in real time, armed for each
    /// deadline as it was when set, so a moved clock alone wakes nothing. Every entry due on the moved
    /// clock is handed out; the entry used to wake it (-1) is no grant and is dropped.
    func tick() {
        running.engine.schedule(-1, at: .distantPast)
    }

    /// On a test clock: moves it to 1 ms after `moment` (a stored date read back may be a little earlier
    /// than the deadline the engine holds), wakes the scheduler, and waits until `key` has been attempted
    /// then (refreshed or failed, its claim released).
    func attempt(_ key: GrantKey, at moment: Date, on clock: TestClock) async throws -> Bool {
        clock.set(moment.addingTimeInterval(0.001))
        tick()
        return try await wait(upTo: 10) {
            guard let record = try running.store.record(for: key), record.inFlightSince == nil else { return false }
            let last = [record.lastAttemptAt, record.lastRefreshAt].compactMap { $0 }.max()
            return last.map { abs($0.timeIntervalSince(clock.now)) < 0.001 } == true
        }
    }

    /// Runs `body`, then stops the fixture before returning, also when `body` throws: teardown is
    /// awaited, so nothing of this test runs on into the next.
    func closing<T>(_ body: () async throws -> T) async throws -> T {
        try await withTeardown({ await stop() }, body)
    }

    func stop() async { await running.stop() }
}

@Suite("The refresh engine over real HTTP, with lifetimes of seconds", .serialized)
struct RefreshEngineTests {
    /// The rule, on the engine's injected clock: each refresh schedules the next at half the access
    /// token's life ±10%, measured from the refresh itself; a wake-up before that moment sends nothing.
    /// The clock stands still while a request is out, so no request time blurs the figure, and the
    /// test takes a second instead of three refresh periods.
    @Test("a grant is refreshed at half its access token's life, within the jitter, again and again")
    func refreshesAtHalfLife() async throws {
        let clock = TestClock(Date())
        let (fixture, _) = try await EngineFixture.start(accessTokenLifetime: 600, grants: [("demo", "ACTIVE")], clock: clock)
        let key = GrantKey.library("ACTIVE", of: "demo")
        let id = try #require(try fixture.store.record(for: key)).id
        var delays: [TimeInterval] = []
        for round in 0..<3 {
            let refreshed = try await fixture.wait(upTo: 10) {
                try fixture.store.record(for: key)?.lastRefreshAt.map { abs($0.timeIntervalSince(clock.now)) < 0.001 } == true
            }
            #expect(refreshed, "round \(round): no refresh at \(clock.now)")
            let record = try #require(try fixture.store.record(for: key))
            let next = try #require(record.nextRefreshAt)
            delays.append(next.timeIntervalSince(clock.now))
            #expect(abs(try #require(record.accessExpiresAt).timeIntervalSince(clock.now) - 600) < 0.001)
            if round == 0 {
                // A wake-up 1.5 s before it is due (the engine allows 1 s) is dropped.
                clock.set(next.addingTimeInterval(-1.5))
                fixture.engine.scheduleNow(id)
                try await Task.sleep(for: .milliseconds(200))
                #expect(try fixture.store.record(for: key)?.lastRefreshAt == record.lastRefreshAt, "refreshed before it was due")
            }
            // At the moment it is due (1 ms after it, as read back from the store), it is refreshed.
            clock.set(next.addingTimeInterval(0.001))
            fixture.tick()
        }
        #expect(try await fixture.wait(upTo: 10) {
            try fixture.store.record(for: key)?.lastRefreshAt.map { abs($0.timeIntervalSince(clock.now)) < 0.001 } == true
        })
        await fixture.stop()
        #expect(delays.count == 3)
        for delay in delays {
            #expect(delay >= 270 - 0.001 && delay <= 330 + 0.001, "next refresh \(delay) s after the last, not 300 s ±10%")
        }
        #expect(try fixture.status(key) == .authorized)
    }

    /// The rule, on the injected clock: while iManage fails passingly, each retry comes 1-2 s after the
    /// last (the backoff configured here), or at the access token's expiry if that is sooner; the grant
    /// is `retrying` while its access token is valid and `expired` from that moment, never `needs_reauth`;
    /// each retry is one request; once iManage is back, the next retry makes it `authorized` again.
    @Test("an outage of the token endpoint: retrying then expired, never needs_reauth, few requests, quick recovery")
    func outage() async throws {
        let clock = TestClock(Date())
        let (fixture, _) = try await EngineFixture.start(accessTokenLifetime: 20, grants: [("demo", "ACTIVE")], clock: clock)
        let key = GrantKey.library("ACTIVE", of: "demo")
        try await fixture.closing {
            try #require(try await fixture.wait(upTo: 10) { try fixture.store.tokens(for: key)?.accessToken != nil })
            let refreshed = try #require(try fixture.store.record(for: key))
            let expiry = try #require(refreshed.accessExpiresAt)
            fixture.emulator.resetStats()
            let faultID = try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .token))
            var next = try #require(refreshed.nextRefreshAt)
            var attempts: [(at: Date, status: GrantStatus?, delay: TimeInterval)] = []
            while next <= expiry.addingTimeInterval(3), attempts.count < 40 {
                guard try await fixture.attempt(key, at: next, on: clock) else {
                    Issue.record("no retry at \(next)")
                    break
                }
                let record = try #require(try fixture.store.record(for: key))
                let following = try #require(record.nextRefreshAt)
                attempts.append((clock.now, record.status, following.timeIntervalSince(clock.now)))
                next = following
            }
            #expect(fixture.emulator.stats().total(.token) == attempts.count, "a request went out beyond the scheduled retries")
            for attempt in attempts {
                #expect(attempt.status == (attempt.at < expiry ? .retrying : .expired), "at \(attempt.at), expiry \(expiry)")
                // At the expiry instead, when that comes first, but never sooner than the minimum interval (0.5 s).
                let retry = attempt.at.addingTimeInterval(attempt.delay)
                let atExpiry = max(expiry, attempt.at.addingTimeInterval(0.5))
                #expect((attempt.delay >= 1 - 0.002 && attempt.delay <= 2 + 0.002) || abs(retry.timeIntervalSince(atExpiry)) < 0.002,
                        "retry \(attempt.delay) s after a failure: not 1-2 s, nor at the expiry")
            }
            let firstAfterExpiry = try #require(attempts.first { $0.at >= expiry })
            #expect(firstAfterExpiry.at.timeIntervalSince(expiry) <= 0.5 + 0.002, "the status turned expired late: \(firstAfterExpiry.at), expiry \(expiry)")

            fixture.emulator.removeFault(id: faultID)
            #expect(try await fixture.attempt(key, at: next, on: clock))
            #expect(try fixture.status(key) == .authorized, "not authorised again at the first retry after the outage")
            let events = try fixture.store.events(EventFilter(subject: "ACTIVE")).map(\.status)
            #expect(events.suffix(3) == [.retrying, .expired, .authorized])
        }
    }

    /// The rule, on the injected clock: a 429 with Retry-After: 4 moves the next attempt to exactly 4 s
    /// later, though the backoff alone would retry after 1-2 s; a wake-up before then sends nothing.
    @Test("429 with Retry-After: the next attempt waits as long as iManage asked, not the shorter backoff, and the access token is kept")
    func retryAfterHonoured() async throws {
        let clock = TestClock(Date())
        let (fixture, _) = try await EngineFixture.start(accessTokenLifetime: 10, grants: [("demo", "ACTIVE")], clock: clock)
        let key = GrantKey.library("ACTIVE", of: "demo")
        try await fixture.closing {
            try #require(try await fixture.wait(upTo: 10) { try fixture.store.tokens(for: key)?.accessToken != nil })
            let token = try fixture.store.tokens(for: key)?.accessToken
            let due = try #require(try fixture.store.record(for: key)?.nextRefreshAt)
            fixture.emulator.resetStats()
            _ = try fixture.emulator.addFault(Fault(.tooManyRequests(retryAfterSeconds: 4), on: .token, count: 1))
            #expect(try await fixture.attempt(key, at: due, on: clock))
            let refusedAt = clock.now
            let refused = try #require(try fixture.store.record(for: key))
            #expect(refused.status == .retrying)
            #expect(try fixture.store.tokens(for: key)?.accessToken == token, "the still-valid access token is kept while retrying")
            let retry = try #require(refused.nextRefreshAt)
            #expect(abs(retry.timeIntervalSince(refusedAt) - 4) < 0.002, "retry \(retry.timeIntervalSince(refusedAt)) s after the 429, not the 4 s asked")

            clock.set(refusedAt.addingTimeInterval(2.5))
            fixture.engine.scheduleNow(refused.id)
            try await Task.sleep(for: .milliseconds(200))
            #expect(fixture.emulator.stats().total(.token) == 1, "retried before the 4 s iManage asked for")
            #expect(try await fixture.attempt(key, at: retry, on: clock))
            #expect(try fixture.status(key) == .authorized)
            #expect(fixture.emulator.stats().total(.token) == 2, "the refused request and one retry")
        }
    }

    @Test("invalid_grant affects that grant only")
    func invalidGrantIsolated() async throws {
        let (fixture, tokens) = try await EngineFixture.start(grants: [("demo", "ACTIVE"), ("demo", "ARCHIVE")])
        let active = GrantKey.library("ACTIVE", of: "demo"), archive = GrantKey.library("ARCHIVE", of: "demo")
        #expect(fixture.emulator.revokeGrant(refreshToken: try #require(tokens[archive])))
        let dead = try await fixture.wait(upTo: 5) { try fixture.status(archive) == .needsReauth }
        // ACTIVE goes on refreshing (every 2 s of its 4 s tokens) after ARCHIVE stopped.
        let deadAt = Date()
        let goesOn = try await fixture.wait(upTo: 5) { (try fixture.store.record(for: active)?.lastRefreshAt ?? .distantPast) > deadAt }
        await fixture.stop()
        #expect(dead)
        #expect(goesOn, "ACTIVE was not refreshed after ARCHIVE's refresh token was refused")
        #expect(try fixture.status(active) == .authorized)
    }

    /// The rule, on the injected clock: a refused client makes that organisation's grant
    /// `client_error` and retried on the backoff (1-2 s here), one request per retry; the other
    /// organisation's grant is refreshed when it is due, meanwhile, and stays `authorized`.
    @Test("invalid_client pauses one organisation only: its grant retries on the backoff, one request each; the other refreshes on")
    func invalidClientIsolated() async throws {
        let clock = TestClock(Date())
        let (fixture, _) = try await EngineFixture.start(
            accessTokenLifetime: 10, organisations: ["good": "demo-secret", "bad": "not-the-secret"],
            grants: [("good", "ACTIVE"), ("bad", "ACTIVE")], clock: clock)
        let good = GrantKey.library("ACTIVE", of: "good"), bad = GrantKey.library("ACTIVE", of: "bad")
        try await fixture.closing {
            // Two overdue grants go 1/100 s apart at start-up: both are due half a second on.
            clock.advance(by: 0.5)
            fixture.tick()
            #expect(try await fixture.wait(upTo: 10) {
                try fixture.status(bad) == .clientError && fixture.status(good) == .authorized
                    && fixture.store.record(for: good)?.accessExpiresAt != nil
                    && fixture.store.records().allSatisfy { $0.inFlightSince == nil }
            })
            #expect(fixture.emulator.stats().count(.token, .invalidClient) == 1)
            var last = try #require(try fixture.store.record(for: bad)?.lastAttemptAt)
            for round in 1...3 {
                let next = try #require(try fixture.store.record(for: bad)?.nextRefreshAt)
                let delay = next.timeIntervalSince(last)
                #expect(delay >= 1 - 0.002 && delay <= 2 + 0.002, "round \(round): retry \(delay) s after the refusal, not 1-2 s")
                #expect(try await fixture.attempt(bad, at: next, on: clock), "round \(round): no retry at \(next)")
                last = clock.now
                #expect(fixture.emulator.stats().count(.token, .invalidClient) == 1 + round, "round \(round): not one request per retry")
                #expect(try fixture.status(bad) == .clientError)
            }
            // The good organisation's grant, due at its half-life (5 s ±10%), is refreshed then.
            let goodNext = try #require(try fixture.store.record(for: good)?.nextRefreshAt)
            #expect(try await fixture.attempt(good, at: max(goodNext, clock.now), on: clock), "the good organisation's grant was not refreshed")
            #expect(try fixture.status(good) == .authorized)
            #expect(try fixture.store.record(for: good)?.lastRefreshAt.map { abs($0.timeIntervalSince(clock.now)) < 0.002 } == true)
        }
    }

    /// The rule, on the injected clock: while iManage refuses an organisation's client, one of its
    /// grants (the probe) retries on the backoff and the others are parked (`client_error`, no timer):
    /// one request per backoff period, however many grants. Once the probe is accepted, the parked
    /// grants resume spread out at `startup_refreshes_per_second` (2 here: 0.5 s apart), the first at once.
    @Test("invalid_client for many grants of one organisation: one probe per backoff period, then all resume, spread out")
    func organisationPause() async throws {
        // Five user grants (library grants would also be checked for NRTADMIN, which is not the point here).
        let users = ["U1", "U2", "U3", "U4", "U5"]
        let clock = TestClock(Date())
        let (fixture, _) = try await EngineFixture.start(
            accessTokenLifetime: 600, kind: .user, grants: users.map { ("demo", $0) }, clock: clock, startupRate: 2)
        func settled() throws -> Bool { try fixture.store.records().allSatisfy { $0.inFlightSince == nil } }
        func scheduledNow() throws -> [GrantRecord] { try fixture.store.records().filter { $0.nextRefreshAt != nil } }
        try await fixture.closing {
            // The first round, spread 0.5 s apart at start-up: all of it is due 3 s on.
            clock.advance(by: 3)
            fixture.tick()
            // (Stored as authorised, with no access token: one is there once iManage gave it.)
            #expect(try await fixture.wait(upTo: 10) { try settled() && fixture.store.records().allSatisfy { $0.accessExpiresAt != nil && $0.status == .authorized } })

            // iManage refuses the client from now on; the clock moves to when every grant is due.
            let faultID = try fixture.emulator.addFault(Fault(.invalidClient, on: .token))
            fixture.emulator.resetStats()
            let allDue = try #require(try fixture.store.records().compactMap(\.nextRefreshAt).max())
            clock.set(allDue.addingTimeInterval(0.001))
            fixture.tick()
            // Each refused grant is written with its retry, then parked (its retry cleared) unless it is the probe.
            let paused = try await fixture.wait(upTo: 10) {
                try settled() && fixture.store.records().allSatisfy { $0.status == .clientError } && scheduledNow().count == 1
            }
            let scheduled = try scheduledNow()
            let shown = try fixture.store.records().map { "\($0.key.subject) \($0.status.rawValue) \($0.nextRefreshAt.map { $0.timeIntervalSince(clock.now) } ?? -999) failures \($0.consecutiveFailures)" }
            #expect(paused, "\(scheduled.count) grants keep a retry while the organisation is paused, not one probe: \(shown)")
            let firstRound = fixture.emulator.stats().total(.token)
            #expect(firstRound >= 1 && firstRound <= 5)
            let probe = try #require(scheduled.first)
            let parked = try fixture.store.records().map(\.id).filter { $0 != probe.id }.sorted()

            // Three backoff periods: one request each, the parked grants stay parked.
            for round in 1...3 {
                let next = try #require(try fixture.store.record(id: probe.id)?.nextRefreshAt)
                #expect(try await fixture.attempt(probe.key, at: next, on: clock), "round \(round): the probe did not retry at \(next)")
                #expect(fixture.emulator.stats().total(.token) == firstRound + round, "round \(round): more than one request per backoff period")
                #expect(try fixture.store.records().filter { $0.nextRefreshAt != nil }.map(\.id) == [probe.id])
            }

            // Accepted again: the probe is authorised, the parked grants follow 0.5 s apart, the first at once.
            fixture.emulator.removeFault(id: faultID)
            let next = try #require(try fixture.store.record(id: probe.id)?.nextRefreshAt)
            #expect(try await fixture.attempt(probe.key, at: next, on: clock))
            let resumedAt = clock.now
            #expect(try fixture.store.record(id: probe.id)?.status == .authorized)
            for (index, id) in parked.enumerated() {
                let moment = resumedAt.addingTimeInterval(Double(index) * 0.5)
                if index > 0 {
                    // Not a moment before its turn.
                    let early = resumedAt.addingTimeInterval(Double(index) * 0.5 - 0.1)
                    clock.set(early)
                    fixture.tick()
                    try await Task.sleep(for: .milliseconds(100))
                    #expect(try fixture.store.record(id: id)?.status == .clientError, "grant \(index) resumed before its turn, at \(early)")
                    clock.set(moment.addingTimeInterval(0.001))
                    fixture.tick()
                }
                #expect(try await fixture.wait(upTo: 10) {
                    try fixture.store.record(id: id).map { $0.status == .authorized && $0.inFlightSince == nil } == true
                }, "parked grant \(index) did not resume at \(moment)")
                let refreshedAt = try #require(try fixture.store.record(id: id)?.lastRefreshAt)
                #expect(abs(refreshedAt.timeIntervalSince(moment)) < 0.002, "parked grant \(index) resumed at \(refreshedAt), not \(moment)")
            }
        }
    }

    @Test("NRTADMIN: checked at a library grant's first refresh and again later; losing it gives not_nrtadmin for that library only")
    func nrtadminChecks() async throws {
        // ALICE is NRTADMIN of ACTIVE and ARCHIVE, not of LITIGATION. Re-check every 1.8 s.
        let (fixture, _) = try await EngineFixture.start(
            accessTokenLifetime: 2, refreshSettings: "nrtadmin_check_hours = 0.0005",
            grants: [("demo", "ACTIVE"), ("demo", "ARCHIVE"), ("demo", "LITIGATION")])
        let active = GrantKey.library("ACTIVE", of: "demo"), archive = GrantKey.library("ARCHIVE", of: "demo")
        let litigation = GrantKey.library("LITIGATION", of: "demo")
        let firstChecks = try await fixture.wait(upTo: 3) {
            try fixture.store.record(for: active)?.nrtadminCheckedAt != nil && fixture.status(litigation) == .notNrtadmin
        }
        _ = try fixture.emulator.removeNRTAdmin(user: "ALICE", library: "ACTIVE")
        let lost = try await fixture.wait(upTo: 6) { try fixture.status(active) == .notNrtadmin }
        await fixture.stop()

        #expect(firstChecks, "the first refresh did not check NRTADMIN membership")
        #expect(lost, "removal from NRTADMIN was not noticed")
        #expect(try fixture.status(archive) == .authorized)
        let message = try fixture.store.events(EventFilter(subject: "ACTIVE")).last?.message ?? ""
        #expect(message.contains("no longer an NRTADMIN of library ACTIVE"))
    }

    @Test("reload: a disabled organisation's grants become disabled, re-enabled they refresh again, and a grant stored meanwhile is scheduled")
    func reload() async throws {
        let (fixture, _) = try await EngineFixture.start(accessTokenLifetime: 2, grants: [("demo", "ACTIVE")])
        let active = GrantKey.library("ACTIVE", of: "demo"), archive = GrantKey.library("ARCHIVE", of: "demo")
        let configPath = fixture.directory.appendingPathComponent("tokend.toml").path
        let enabledText = try String(contentsOfFile: configPath, encoding: .utf8)
        #expect(try await fixture.wait(upTo: 3) { try fixture.store.record(for: active)?.lastRefreshAt != nil })

        try enabledText.replacingOccurrences(of: "name = \"demo\"", with: "name = \"demo\"\nenabled = false")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        try await fixture.engine.reload(try TokendConfiguration.load(path: configPath, environment: [:]))
        let disabled = try await fixture.wait(upTo: 3) { try fixture.status(active) == .disabled }

        // A grant stored by another process (import) while the daemon runs.
        try await fixture.store.saveAuthorization(.seeded(
            archive, refreshToken: try fixture.emulator.mintRefreshToken(), refreshLife: 86_400, nextRefreshAt: Date(), message: "imported"))
        try enabledText.write(toFile: configPath, atomically: true, encoding: .utf8)
        try await fixture.engine.reload(try TokendConfiguration.load(path: configPath, environment: [:]))
        let back = try await fixture.wait(upTo: 4) {
            try fixture.status(active) == .authorized && fixture.store.record(for: archive)?.lastRefreshAt != nil
        }
        await fixture.stop()
        #expect(disabled)
        #expect(back, "after re-enabling, ACTIVE should refresh again and the imported ARCHIVE be scheduled")
        #expect(try fixture.store.events(EventFilter(subject: "ACTIVE")).map(\.status).suffix(2) == [.disabled, .authorized])
    }
}
