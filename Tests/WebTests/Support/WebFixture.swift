import Foundation
import IManageClient
import IManageEmulator
import Logging
import Synchronization
import Testing
import TokendConfig
import TokendEngine
import TokendPolicy
import TokendStore
import TokendTestSupport
import TokendWeb

/// A clock the tests can move forward (to expire a `state` without waiting).
final class TestClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)
    func advance(by seconds: TimeInterval) { offset.withLock { $0 += seconds } }
    var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }
}

/// The web pages over real HTTP, in front of a real store and running engine, against the
/// emulator (which insists on PKCE, so every flow proves the daemon sends it right).
///
/// Organisations: `demo` (working), `off` (enabled = false), `wrong` (a refused client secret).
@dynamicMemberLookup
struct WebFixture {
    let running: RunningEngine
    let web: TokendWebServer
    let clock: TestClock
    /// The configuration's `public_url`: where iManage sends the browser back to.
    let publicURL: String

    var base: String { "http://127.0.0.1:\(web.port)" }
    subscript<Part>(dynamicMember part: KeyPath<RunningEngine, Part>) -> Part { running[keyPath: part] }

    /// - Parameters:
    ///   - publicURL: the `public_url` (the pages themselves are served over http on a kernel-chosen port).
    ///   - issueRefreshTokens: false for an iManage application whose *Allow Refresh Token* is off.
    static func start(
        accessTokenLifetime: Int = 1800, pkce: Bool = true, issuer: EmulatorConfiguration.IssuerParameter = .none,
        publicURL: String = "http://127.0.0.1:8080", issueRefreshTokens: Bool = true
    ) async throws -> WebFixture {
        // customer 2 tries to get in: TenantWebTests
        let emulator = try await IManageEmulator.startForTest(.demo(customers: 2), accessTokenLifetime: accessTokenLifetime) {
            $0.clients = $0.clients.map {
                var client = $0
                client.issueRefreshTokens = issueRefreshTokens
                return client
            }
            $0.requirePKCE = pkce
            $0.issuerParameter = issuer
        }

        let directory = try DaemonDirectory("tokend-web")
        let key = directory.writeKey()
        directory.writeSecret("good-secret", "demo-secret")
        directory.writeSecret("bad-secret", "not-the-secret")
        let organisations = [("demo", true, "good-secret"), ("off", false, "good-secret"), ("wrong", true, "bad-secret")].map { name, enabled, secret in
            TestOrganisation(name, at: emulator.baseURL, clientSecretFile: secret, enabled: enabled, pkce: pkce)
        }
        let configPath = try directory.writeConfiguration(TestConfiguration(
            publicURL: publicURL, refresh: TestConfiguration.quickRefresh(), organisations: organisations))
        let configuration = try TokendConfiguration.load(path: configPath, environment: [:])

        let store = try SQLiteGrantStore(path: configuration.database, key: key)
        var logger = Logger(label: "web-test")
        logger.logLevel = .warning
        let running = try await RunningEngine.start(
            configuration: configuration, store: store, emulator: emulator, directory: directory.url, requestTimeout: 5, logger: logger)
        let clock = TestClock()
        let web = try await TokendWebServer.start(
            configuration: configuration, store: store, client: running.client, engine: running.engine, logger: logger,
            listen: ListenAddress(host: "127.0.0.1", port: 0), now: { clock.now })
        return WebFixture(running: running, web: web, clock: clock, publicURL: publicURL)
    }

    func stop() async {
        await web.stop()
        await running.stop()
    }

    /// Every grant stored, of every organisation.
    func grants() throws -> [GrantRecord] { try running.store.records() }

    // MARK: Going through iManage like a browser

    /// Follows a redirect to iManage's authorize URL: the sign-in page, then the form POST with
    /// the credentials (or Deny). Returns the URL iManage sends the browser back to, made to
    /// point at this test's web server (public_url is a fixed address; the server's port is not).
    func throughIManage(
        _ redirect: PageAnswer, browser: TestBrowser, email: String, password: String, action: String = "sign_in",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        #expect(redirect.status == 303, "expected a redirect to iManage, got \(redirect.status): \(visibleText(redirect.body))", sourceLocation: sourceLocation)
        let authorize = try #require(redirect.location, sourceLocation: sourceLocation)
        #expect(authorize.hasPrefix(running.emulator.baseURL + "/auth/oauth2/authorize?"), sourceLocation: sourceLocation)
        let signInPage = try await browser.get(authorize)
        #expect(signInPage.status == 200, "sign-in page: \(visibleText(signInPage.body))", sourceLocation: sourceLocation)
        let fields = hiddenFields(in: signInPage.body) + [("email", email), ("password", password), ("action", action)]
        let signedIn = try await browser.post(running.emulator.baseURL + "/auth/oauth2/authorize", fields)
        #expect(signedIn.status == 302, "sign-in: \(visibleText(signedIn.body))", sourceLocation: sourceLocation)
        let back = try #require(signedIn.location, sourceLocation: sourceLocation)
        #expect(back.hasPrefix(publicURL + "/oauth/callback?"), sourceLocation: sourceLocation)
        return base + back.dropFirst(publicURL.count)
    }

    /// A person's own authorisation from the start: `/authorise`, iManage, the callback.
    func authorizeUser(
        _ browser: TestBrowser, email: String, password: String, organisation: String = "demo",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> PageAnswer {
        let start = try await browser.get(base + "/organisations/\(organisation)/authorise")
        let callback = try await throughIManage(start, browser: browser, email: email, password: password, sourceLocation: sourceLocation)
        return try await browser.get(callback)
    }

    /// The Tracker sign-in from the start; returns the callback's answer.
    func trackerSignIn(_ browser: TestBrowser, email: String, password: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> PageAnswer {
        let start = try await browser.get(base + "/organisations/demo/tracker/sign-in")
        let callback = try await throughIManage(start, browser: browser, email: email, password: password, sourceLocation: sourceLocation)
        return try await browser.get(callback)
    }

    /// Presses Authorize for `library` on the Tracker page with `email`; returns the answer (a redirect to iManage).
    func pressAuthorize(_ browser: TestBrowser, library: String, email: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> PageAnswer {
        let page = try await browser.get(base + "/organisations/demo/tracker")
        let csrf = try #require(hiddenFields(in: page.body).first { $0.0 == "csrf" }?.1, "no CSRF field on the Tracker page", sourceLocation: sourceLocation)
        return try await browser.post(base + "/organisations/demo/tracker/libraries/\(library)/authorise", [("csrf", csrf), ("email", email)])
    }

    /// Authorizes `library` on the Tracker page, signing in at iManage as `email`; returns the callback's answer.
    func authorizeLibrary(
        _ browser: TestBrowser, library: String, email: String, signInAs: String? = nil, password: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> PageAnswer {
        let pressed = try await pressAuthorize(browser, library: library, email: email, sourceLocation: sourceLocation)
        let callback = try await throughIManage(pressed, browser: browser, email: signInAs ?? email, password: password, sourceLocation: sourceLocation)
        return try await browser.get(callback)
    }

    /// Opens a callback URL that fails: the answer must be a redirect to the clean `/oauth/failed`
    /// (no code or state in the address bar); returns the page shown there.
    func failedCallback(_ browser: TestBrowser, _ url: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> PageAnswer {
        try await shownFailure(try await browser.get(url), browser: browser, sourceLocation: sourceLocation)
    }

    /// Follows the answer of a failed callback to `/oauth/failed` (it must be that redirect); returns the page shown there.
    func shownFailure(_ answer: PageAnswer, browser: TestBrowser, sourceLocation: SourceLocation = #_sourceLocation) async throws -> PageAnswer {
        #expect(answer.status == 303, "the failed callback answered \(answer.status), not a redirect: \(visibleText(answer.body))", sourceLocation: sourceLocation)
        #expect(answer.location == "/oauth/failed", sourceLocation: sourceLocation)
        return try await browser.get(base + "/oauth/failed")
    }

    /// The CSRF token on page `path`.
    func csrf(_ browser: TestBrowser, on path: String) async throws -> String {
        let page = try await browser.get(base + path)
        return try #require(hiddenFields(in: page.body).first { $0.0 == "csrf" }?.1, "no CSRF field on \(path)")
    }
}

/// Starts a fixture, runs `body`, always stops it.
func withWebFixture(
    accessTokenLifetime: Int = 1800, pkce: Bool = true, issuer: EmulatorConfiguration.IssuerParameter = .none,
    publicURL: String = "http://127.0.0.1:8080", issueRefreshTokens: Bool = true,
    _ body: (WebFixture) async throws -> Void
) async throws {
    let fixture = try await WebFixture.start(
        accessTokenLifetime: accessTokenLifetime, pkce: pkce, issuer: issuer, publicURL: publicURL, issueRefreshTokens: issueRefreshTokens)
    try await withTeardown({ await fixture.stop() }) { try await body(fixture) }
}
