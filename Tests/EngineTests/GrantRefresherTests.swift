import Foundation
import IManageClient
import IManageEmulator
import Logging
import Testing
import TokendPolicy
import TokendStore
import TokendTestSupport
@testable import TokendEngine

/// A store, an emulator and a refresher wired together over real HTTP on loopback.
struct RefreshFixture {
    let emulator: IManageEmulator
    let store: SQLiteGrantStore
    let client: IManageHTTPClient
    let directory: URL
    let target: RefreshTarget

    static func start(accessTokenLifetime: Int = 60, rotation: Bool = false) async throws -> RefreshFixture {
        let emulator = try await IManageEmulator.startForTest(accessTokenLifetime: accessTokenLifetime) { $0.rotatesRefreshTokens = rotation }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-engine-\(UUID().uuidString)")
        let store = try SQLiteGrantStore(
            path: directory.appendingPathComponent("tokend.sqlite").path, key: randomStoreKey())
        let client = try IManageHTTPClient(
            settings: IManageClientSettings(connectTimeout: 2, requestTimeout: 5), logger: Logger(label: "test"))
        let target = RefreshTarget(
            tokenURL: URL(string: emulator.baseURL + "/auth/oauth2/token")!,
            credentials: ClientCredentials(clientID: "tokend-demo", clientSecret: "demo-secret"))
        return RefreshFixture(emulator: emulator, store: store, client: client, directory: directory, target: target)
    }

    /// Starts a fixture, runs `body`, and stops the fixture before returning (also when `body` throws),
    /// so one test's emulator never runs on into the next.
    static func with<T>(
        accessTokenLifetime: Int = 60, rotation: Bool = false, _ body: (RefreshFixture) async throws -> T
    ) async throws -> T {
        let fixture = try await start(accessTokenLifetime: accessTokenLifetime, rotation: rotation)
        return try await withTeardown({ await fixture.stop() }) { try await body(fixture) }
    }

    /// A refresher on `clock` (the wall clock if nil) drawing `unitRandom` for jitter and backoff.
    func refresher(
        owner: String = "daemon:test", clock: TestClock? = nil, unitRandom: @escaping @Sendable () -> Double = { .random(in: 0..<1) },
        ownerIsGone: @escaping @Sendable (String) -> Bool = { _ in false }
    ) -> GrantRefresher {
        let now = TestClock.reading(of: clock)
        return GrantRefresher(
            store: store, client: client, policy: RefreshPolicy(), owner: owner, now: now,
            unitRandom: unitRandom, ownerIsGone: ownerIsGone)
    }

    /// A library grant served by a refresh token the emulator really issued to ALICE, authorised at `now`.
    func authorizedLibrary(
        _ library: String = "ACTIVE", refreshTokenLife: TimeInterval = 365 * 86_400, at now: Date = Date()
    ) async throws -> (id: Int64, refreshToken: String) {
        let token = try emulator.mintRefreshToken()
        let id = try await store.seed(.seeded(
            .library(library, of: "demo"), refreshToken: token, refreshLife: refreshTokenLife, nextRefreshAt: now,
            message: "authorised by Alice Admin", now: now))
        return (id, token)
    }

    func stop() async {
        await client.shutdown()
        await emulator.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite("Refreshing one grant against the emulator", .serialized)
struct GrantRefresherTests {
    /// The rule: the next refresh at half the access token's life, moved by ±10% of that by the random draw.
    /// unitRandom 0 gives the earliest moment, 0.5 the half-life itself, 1 the latest.
    @Test("a refresh stores the new access token and schedules the next at exactly half-life, ±10% by the random draw",
          arguments: [(0.0, 270.0), (0.25, 285.0), (0.5, 300.0), (1.0, 330.0)])
    func refreshesAtHalfLife(unitRandom: Double, expectedDelay: TimeInterval) async throws {
        try await RefreshFixture.with(accessTokenLifetime: 600) { fixture in
            let clock = TestClock(TestClock.beforeMidnightUTC)
            let grant = try await fixture.authorizedLibrary(at: clock.now)
            let attempt = try await fixture.refresher(clock: clock, unitRandom: { unitRandom }).refresh(grantID: grant.id, at: fixture.target)
            #expect(!attempt.skipped)
            let delay = try #require(attempt.nextRefreshAt).timeIntervalSince(clock.now)
            #expect(abs(delay - expectedDelay) < 0.000_01, "next refresh in \(delay) s")
            let record = try #require(try fixture.store.record(id: grant.id))
            #expect(record.status == .authorized)
            #expect(record.inFlightOwner == nil)
            let stored = try #require(record.nextRefreshAt).timeIntervalSince(clock.now)
            #expect(abs(stored - expectedDelay) < 0.001, "stored next refresh in \(stored) s")
            #expect(abs(try #require(record.accessExpiresAt).timeIntervalSince(clock.now) - 600) < 0.001)
            let tokens = try #require(try fixture.store.tokens(for: record.key))
            #expect(tokens.accessToken?.isEmpty == false)
            #expect(tokens.refreshToken == grant.refreshToken, "rotation off: the stored refresh token stays")
            #expect(fixture.emulator.inspect(refreshToken: grant.refreshToken).state == .active)
        }
    }

    @Test("with rotation on, the new refresh token replaces the old one")
    func rotation() async throws {
        try await RefreshFixture.with(rotation: true) { fixture in
            let grant = try await fixture.authorizedLibrary()
            _ = try await fixture.refresher().refresh(grantID: grant.id, at: fixture.target)
            let record = try #require(try fixture.store.record(id: grant.id))
            let stored = try #require(try fixture.store.tokens(for: record.key)?.refreshToken)
            #expect(stored != grant.refreshToken)
            #expect(fixture.emulator.inspect(refreshToken: stored).state == .active)
            #expect(fixture.emulator.inspect(refreshToken: grant.refreshToken).state == .rotated)
            // And the chain goes on: a second refresh works with what was stored.
            _ = try await fixture.refresher().refresh(grantID: grant.id, at: fixture.target)
            #expect(try fixture.store.record(id: grant.id)?.status == .authorized)
        }
    }

    /// README: "iManage does not say when a refresh token expires; it is counted from the authorisation,
    /// and again from each rotation."
    @Test("the refresh token's expiry is counted again from each rotation, and kept when there is none", arguments: [true, false])
    func expiryCountedFromRotation(rotation: Bool) async throws {
        try await RefreshFixture.with(rotation: rotation) { fixture in
            let clock = TestClock(TestClock.beforeMidnightUTC)
            let authorizedAt = clock.now
            let grant = try await fixture.authorizedLibrary(at: authorizedAt)
            clock.advance(by: 100 * 86_400)
            _ = try await fixture.refresher(clock: clock).refresh(grantID: grant.id, at: fixture.target)
            let record = try #require(try fixture.store.record(id: grant.id))
            let lifetime = RefreshPolicy().settings.refreshTokenLifetime
            let countedFrom = rotation ? clock.now : authorizedAt
            #expect(abs(try #require(record.refreshTokenExpiresAt).timeIntervalSince(countedFrom.addingTimeInterval(lifetime))) < 0.001)
            #expect(abs(try #require(record.refreshTokenIssuedAt).timeIntervalSince(countedFrom)) < 0.001)
        }
    }

    /// The rule: after the n-th failure in a row, a delay between backoff_initial (30 s) and a ceiling
    /// that doubles from it up to backoff_max (300 s). unitRandom 0 gives the floor, 1 the ceiling.
    @Test("a 503 leaves the grant retrying with its access token; the backoff stays between its floor and its doubling ceiling",
          arguments: [(0.0, [30.0, 30, 30, 30, 30, 30]), (1.0, [30.0, 60, 120, 240, 300, 300])])
    func transientFailure(unitRandom: Double, expectedDelays: [TimeInterval]) async throws {
        // An access token of 10 h, so its expiry never comes before the next retry.
        try await RefreshFixture.with(accessTokenLifetime: 36_000) { fixture in
            let clock = TestClock(TestClock.beforeMidnightUTC)
            let grant = try await fixture.authorizedLibrary(at: clock.now)
            let refresher = fixture.refresher(clock: clock, unitRandom: { unitRandom })
            _ = try await refresher.refresh(grantID: grant.id, at: fixture.target)
            let accessBefore = try fixture.store.tokens(for: .library("ACTIVE", of: "demo"))?.accessToken
            _ = try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .token))
            var delays: [TimeInterval] = []
            for _ in expectedDelays {
                clock.advance(by: 60)
                let attempt = try await refresher.refresh(grantID: grant.id, at: fixture.target)
                delays.append(try #require(attempt.nextRefreshAt).timeIntervalSince(clock.now))
            }
            // To the millisecond (a Date is a Double: adding 30 s to one may be off in the last digit).
            #expect(delays.map { ($0 * 1000).rounded() / 1000 } == expectedDelays)
            let record = try #require(try fixture.store.record(id: grant.id))
            #expect(record.status == .retrying)
            #expect(record.consecutiveFailures == expectedDelays.count)
            #expect(record.lastHTTPStatus == 503)
            #expect(record.lastErrorClass == "transient")
            #expect(try fixture.store.tokens(for: record.key)?.accessToken == accessBefore)
        }
    }

    @Test("a failure shortly before the access token runs out looks again at its expiry, so the status turns expired on time")
    func retryAtExpiry() async throws {
        try await RefreshFixture.with(accessTokenLifetime: 40) { fixture in
            let clock = TestClock(TestClock.beforeMidnightUTC)
            let grant = try await fixture.authorizedLibrary(at: clock.now)
            let refresher = fixture.refresher(clock: clock, unitRandom: { 0.5 })
            _ = try await refresher.refresh(grantID: grant.id, at: fixture.target)
            let expiry = try #require(try fixture.store.record(id: grant.id)?.accessExpiresAt)
            _ = try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .token))
            clock.advance(by: 20)
            // The backoff says 30 s; the token runs out in 20.
            let attempt = try await refresher.refresh(grantID: grant.id, at: fixture.target)
            #expect(attempt.nextRefreshAt == expiry)
            #expect(try fixture.store.record(id: grant.id)?.status == .retrying)
            clock.set(expiry)
            _ = try await refresher.refresh(grantID: grant.id, at: fixture.target)
            #expect(try fixture.store.record(id: grant.id)?.status == .expired)
        }
    }

    @Test("invalid_grant makes the grant needs_reauth and unscheduled")
    func grantDead() async throws {
        try await RefreshFixture.with { fixture in
            let grant = try await fixture.authorizedLibrary()
            _ = try fixture.emulator.addFault(Fault(.invalidGrant, on: .token))
            let attempt = try await fixture.refresher().refresh(grantID: grant.id, at: fixture.target)
            #expect(attempt.nextRefreshAt == nil)
            let record = try #require(try fixture.store.record(id: grant.id))
            #expect(record.status == .needsReauth)
            #expect(try fixture.store.events().last?.message == "the refresh token was refused: authorise again")
        }
    }

    @Test("invalid_client gives client_error, telling the administrator what to check")
    func clientRefused() async throws {
        try await RefreshFixture.with { fixture in
            let grant = try await fixture.authorizedLibrary()
            var target = fixture.target
            target.credentials = ClientCredentials(clientID: "tokend-demo", clientSecret: "wrong-secret")
            _ = try await fixture.refresher().refresh(grantID: grant.id, at: target)
            let record = try #require(try fixture.store.record(id: grant.id))
            #expect(record.status == .clientError)
            #expect(record.lastHTTPStatus == 401)
            #expect(try fixture.store.events().last?.message.contains("client_secret_file") == true)
        }
    }

    @Test("after a crash between iManage's rotation and our commit, the refused refresh says a rotation was probably lost")
    func crashLosesRotation() async throws {
        try await RefreshFixture.with(rotation: true) { fixture in
            let grant = try await fixture.authorizedLibrary()
            // The process that crashed: its claim is durable, its request reached iManage and rotated
            // the token, and it died before writing the answer.
            _ = try #require(try await fixture.store.claimRefresh(id: grant.id, owner: "daemon:crashed", lease: 60))
            _ = await fixture.client.refresh(
                tokenURL: fixture.target.tokenURL, credentials: fixture.target.credentials, refreshToken: grant.refreshToken)
            #expect(try fixture.store.record(id: grant.id)?.inFlightOwner == "daemon:crashed")

            // The restarted daemon knows the crashed owner is gone, takes over and tries once.
            let attempt = try await fixture.refresher(ownerIsGone: { $0 == "daemon:crashed" })
                .refresh(grantID: grant.id, at: fixture.target)
            #expect(attempt.followedInterruptedRefresh)
            let record = try #require(try fixture.store.record(id: grant.id))
            #expect(record.status == .needsReauth)
            #expect(record.lastError?.contains("rotation probably lost") == true)
            #expect(try fixture.store.events().last?.message.contains("rotation was probably lost") == true)
        }
    }

    @Test("a live claim of another process is respected: nothing is sent")
    func respectsLiveClaim() async throws {
        try await RefreshFixture.with { fixture in
            let grant = try await fixture.authorizedLibrary()
            _ = try await fixture.store.claimRefresh(id: grant.id, owner: "cli:4242", lease: 60)
            fixture.emulator.resetStats()
            let attempt = try await fixture.refresher().refresh(grantID: grant.id, at: fixture.target)
            #expect(attempt.skipped)
            #expect(fixture.emulator.stats().total(.token) == 0)
        }
    }

    /// The rule: inside the last 30 days, a warning at the first refresh after an authorisation, then
    /// once a day, counted from when the refresh token was issued (not at a UTC midnight: a grant
    /// authorised at 23:59 is not warned about again at 00:01).
    @Test("a refresh token in its last 30 days is warned about at the first refresh, not again across a midnight, again a day later")
    func refreshTokenExpiryWarning() async throws {
        try await RefreshFixture.with { fixture in
            let clock = TestClock(TestClock.beforeMidnightUTC)
            let grant = try await fixture.authorizedLibrary(refreshTokenLife: 10 * 86_400, at: clock.now)
            let refresher = fixture.refresher(clock: clock)
            var warned: [Bool] = []
            // 23:59, 00:01 (the next UTC day), a day after the first, and a few minutes later.
            for step: TimeInterval in [0, 120, 86_400 - 60, 180] {
                clock.advance(by: step)
                let attempt = try await refresher.refresh(grantID: grant.id, at: fixture.target)
                warned.append(attempt.refreshTokenWarning?.contains("authorise again before then") == true)
            }
            #expect(warned == [true, false, true, false])
            let messages = try fixture.store.events().map(\.message)
            #expect(messages.filter { $0.contains("refresh token expires") }.count == 2)
            #expect(try fixture.store.record(id: grant.id)?.status == .authorized)
        }
    }

    @Test("a refresh token far from expiry gives no warning, and none a day later either")
    func noEarlyWarning() async throws {
        try await RefreshFixture.with { fixture in
            let clock = TestClock(TestClock.beforeMidnightUTC)
            let grant = try await fixture.authorizedLibrary(refreshTokenLife: 60 * 86_400, at: clock.now)
            let refresher = fixture.refresher(clock: clock)
            #expect(try await refresher.refresh(grantID: grant.id, at: fixture.target).refreshTokenWarning == nil)
            clock.advance(by: 86_400)
            #expect(try await refresher.refresh(grantID: grant.id, at: fixture.target).refreshTokenWarning == nil)
        }
    }
}
