import Foundation
import IManageClient
import IManageEmulator
import Logging
import Testing
import TokendPolicy
import TokendStore
@testable import TokendEngine

/// A store, an emulator and a refresher wired together over real HTTP on loopback.
struct RefreshFixture {
    let emulator: IManageEmulator
    let store: GrantStore
    let client: IManageHTTPClient
    let directory: URL
    let target: RefreshTarget

    static func start(accessTokenLifetime: Int = 60, rotation: Bool = false) async throws -> RefreshFixture {
        var configuration = EmulatorConfiguration.demo
        configuration.port = 0
        configuration.accessTokenLifetime = accessTokenLifetime
        configuration.rotatesRefreshTokens = rotation
        let emulator = try await IManageEmulator.start(configuration)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-engine-\(UUID().uuidString)")
        let store = try GrantStore(
            path: directory.appendingPathComponent("tokend.sqlite").path, key: (0..<32).map { _ in .random(in: 0...255) })
        let client = try IManageHTTPClient(
            settings: IManageClientSettings(connectTimeout: 2, requestTimeout: 5), logger: Logger(label: "test"))
        let target = RefreshTarget(
            tokenURL: URL(string: emulator.baseURL + "/auth/oauth2/token")!,
            credentials: ClientCredentials(clientID: "tokend-demo", clientSecret: "demo-secret"))
        return RefreshFixture(emulator: emulator, store: store, client: client, directory: directory, target: target)
    }

    func refresher(owner: String = "daemon:test", ownerIsGone: @escaping @Sendable (String) -> Bool = { _ in false }) -> GrantRefresher {
        GrantRefresher(store: store, client: client, policy: RefreshPolicy(), owner: owner, ownerIsGone: ownerIsGone)
    }

    /// A library grant served by a refresh token the emulator really issued to ALICE.
    func authorisedLibrary(_ library: String = "ACTIVE", refreshTokenLife: TimeInterval = 365 * 86_400) async throws -> (id: Int64, refreshToken: String) {
        let token = try emulator.mintGrants(user: "ALICE", clientID: "tokend-demo", count: 1)[0]
        let now = Date()
        let key = GrantKey.library(library, of: "demo")
        try await store.saveAuthorisation(NewAuthorisation(
            key: key,
            identity: AuthorisedIdentity(userID: "ALICE", email: "alice@example.com", name: "Alice Admin", customerID: "1"),
            refreshToken: IssuedToken(token: token, issuedAt: now, expiresAt: now.addingTimeInterval(refreshTokenLife)),
            accessToken: nil, nextRefreshAt: now, message: "authorised by Alice Admin"))
        return (try #require(try store.record(for: key)).id, token)
    }

    func stop() async {
        await client.shutdown()
        await emulator.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite("Refreshing one grant against the emulator", .serialized)
struct GrantRefresherTests {
    @Test("a refresh stores the new access token and schedules the next at half-life ±10%")
    func refreshesAtHalfLife() async throws {
        let fixture = try await RefreshFixture.start(accessTokenLifetime: 600)
        defer { Task { await fixture.stop() } }
        let grant = try await fixture.authorisedLibrary()
        let before = Date()
        let attempt = try await fixture.refresher().refresh(grantID: grant.id, at: fixture.target)
        #expect(!attempt.skipped)
        let record = try #require(try fixture.store.record(id: grant.id))
        #expect(record.status == .authorized)
        #expect(record.inFlightOwner == nil)
        let next = try #require(record.nextRefreshAt).timeIntervalSince(before)
        #expect(next >= 270 - 1 && next <= 330 + 1, "next refresh in \(next) s")
        let tokens = try #require(try fixture.store.tokens(for: record.key))
        #expect(tokens.accessToken?.isEmpty == false)
        #expect(tokens.refreshToken == grant.refreshToken, "rotation off: the stored refresh token stays")
        #expect(fixture.emulator.inspect(refreshToken: grant.refreshToken).state == .active)
    }

    @Test("with rotation on, the new refresh token replaces the old one")
    func rotation() async throws {
        let fixture = try await RefreshFixture.start(rotation: true)
        defer { Task { await fixture.stop() } }
        let grant = try await fixture.authorisedLibrary()
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

    @Test("a 503 leaves the grant retrying with its access token, backing off at least 30 s")
    func transientFailure() async throws {
        let fixture = try await RefreshFixture.start()
        defer { Task { await fixture.stop() } }
        let grant = try await fixture.authorisedLibrary()
        _ = try await fixture.refresher().refresh(grantID: grant.id, at: fixture.target)
        let accessBefore = try fixture.store.tokens(for: .library("ACTIVE", of: "demo"))?.accessToken
        _ = try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .token))
        let before = Date()
        let attempt = try await fixture.refresher().refresh(grantID: grant.id, at: fixture.target)
        let record = try #require(try fixture.store.record(id: grant.id))
        #expect(record.status == .retrying)
        #expect(record.lastHTTPStatus == 503)
        #expect(record.lastErrorClass == "transient")
        #expect(try #require(attempt.nextRefreshAt).timeIntervalSince(before) >= 29)
        #expect(try fixture.store.tokens(for: record.key)?.accessToken == accessBefore)
    }

    @Test("invalid_grant makes the grant needs_reauth and unscheduled")
    func grantDead() async throws {
        let fixture = try await RefreshFixture.start()
        defer { Task { await fixture.stop() } }
        let grant = try await fixture.authorisedLibrary()
        _ = try fixture.emulator.addFault(Fault(.invalidGrant, on: .token))
        let attempt = try await fixture.refresher().refresh(grantID: grant.id, at: fixture.target)
        #expect(attempt.nextRefreshAt == nil)
        let record = try #require(try fixture.store.record(id: grant.id))
        #expect(record.status == .needsReauth)
        #expect(try fixture.store.events().last?.message == "the refresh token was refused: authorise again")
    }

    @Test("invalid_client gives client_error, telling the administrator what to check")
    func clientRefused() async throws {
        let fixture = try await RefreshFixture.start()
        defer { Task { await fixture.stop() } }
        let grant = try await fixture.authorisedLibrary()
        var target = fixture.target
        target.credentials = ClientCredentials(clientID: "tokend-demo", clientSecret: "wrong-secret")
        _ = try await fixture.refresher().refresh(grantID: grant.id, at: target)
        let record = try #require(try fixture.store.record(id: grant.id))
        #expect(record.status == .clientError)
        #expect(record.lastHTTPStatus == 401)
        #expect(try fixture.store.events().last?.message.contains("client_secret_file") == true)
    }

    @Test("after a crash between iManage's rotation and our commit, the refused refresh says a rotation was probably lost")
    func crashLosesRotation() async throws {
        let fixture = try await RefreshFixture.start(rotation: true)
        defer { Task { await fixture.stop() } }
        let grant = try await fixture.authorisedLibrary()
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

    @Test("a live claim of another process is respected: nothing is sent")
    func respectsLiveClaim() async throws {
        let fixture = try await RefreshFixture.start()
        defer { Task { await fixture.stop() } }
        let grant = try await fixture.authorisedLibrary()
        _ = try await fixture.store.claimRefresh(id: grant.id, owner: "cli:4242", lease: 60)
        fixture.emulator.resetStats()
        let attempt = try await fixture.refresher().refresh(grantID: grant.id, at: fixture.target)
        #expect(attempt.skipped)
        #expect(fixture.emulator.stats().total(.token) == 0)
    }

    @Test("a refresh token in its last 30 days is warned about at the first refresh, not at every refresh")
    func refreshTokenExpiryWarning() async throws {
        let fixture = try await RefreshFixture.start()
        defer { Task { await fixture.stop() } }
        let grant = try await fixture.authorisedLibrary(refreshTokenLife: 10 * 86_400)
        let first = try await fixture.refresher().refresh(grantID: grant.id, at: fixture.target)
        #expect(first.refreshTokenWarning?.contains("authorise again before then") == true)
        let second = try await fixture.refresher().refresh(grantID: grant.id, at: fixture.target)
        #expect(second.refreshTokenWarning == nil, "warned again the same day")
        let messages = try fixture.store.events().map(\.message)
        #expect(messages.filter { $0.contains("refresh token expires") }.count == 1)
        #expect(try fixture.store.record(id: grant.id)?.status == .authorized)
    }

    @Test("a refresh token far from expiry gives no warning")
    func noEarlyWarning() async throws {
        let fixture = try await RefreshFixture.start()
        defer { Task { await fixture.stop() } }
        let grant = try await fixture.authorisedLibrary(refreshTokenLife: 60 * 86_400)
        let attempt = try await fixture.refresher().refresh(grantID: grant.id, at: fixture.target)
        #expect(attempt.refreshTokenWarning == nil)
    }
}
