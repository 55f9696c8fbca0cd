import Foundation
import IManageEmulator
import Logging
import NIOHTTP1
import Testing
import TokendAPI
import TokendPolicy
import TokendStore
import TokendTestSupport

extension WebPageTests {
    /// Issue 11's visible bug: a grant whose access token ran out while its refresh kept failing was
    /// `expired` in `status` and `/v1/status`, but "Authorized"/"Retrying" on the Tracker page and on
    /// `/me`. Every surface now shows the effective status.
    @Suite("One grant, one status on every surface", .serialized)
    struct EffectiveStatusEverywhereTests {
        @Test("authorised, access token run out, refresh failing: expired in status --json, /v1/status, the token API's 503, the Tracker page and /me")
        func expiredEverywhere() async throws {
            try await withWebFixture { fixture in
                let browser = TestBrowser()
                // Alice authorises herself (a `me` session) and signs in to the Tracker page (ACTIVE is hers).
                _ = try await fixture.authorizeUser(browser, email: "alice@example.com", password: "alice-password")
                _ = try await fixture.trackerSignIn(browser, email: "alice@example.com", password: "alice-password")
                // iManage now fails every refresh.
                _ = try fixture.emulator.addFault(Fault(.serverError(status: 503), on: .token))
                let keys: [GrantKey] = [.library("ACTIVE", of: "demo"), .user("ALICE", of: "demo")]
                for key in keys { try await storeRanOutWhileFailing(key, in: fixture) }

                // `status --json` (the binary, reading the database) and `/v1/status` (the token API).
                let api = try await TokenAPIUnderTest.start(fixture)
                try await withTeardownOf(api) {
                    let cli = try StatusJSON.run(config: fixture.directory.appendingPathComponent("tokend.toml").path)
                    let overAPI = try await api.json(.GET, "/v1/status").body
                    for (surface, report) in [("status --json", cli), ("/v1/status", overAPI)] {
                        #expect(StatusJSON.status(of: "libraries", "ACTIVE", in: report) == "expired", "\(surface): \(report)")
                        #expect(StatusJSON.status(of: "users", "ALICE", in: report) == "expired", "\(surface): \(report)")
                    }
                    // The token API's 503 names the effective status, in its field and its reason.
                    for path in ["/v1/organisations/demo/libraries/ACTIVE/token", "/v1/organisations/demo/users/ALICE/token"] {
                        let (status, answer) = try await api.json(.GET, path)
                        #expect(status == 503, "\(path): \(answer)")
                        #expect(answer["status"] as? String == "expired", "\(path): \(answer)")
                        #expect((answer["reason"] as? String)?.hasPrefix("expired: ") == true, "\(path): \(answer)")
                    }
                }

                // The pages: the badge says Expired (its title the status word), never what is stored.
                let tracker = try await browser.get(fixture.base + "/organisations/demo/tracker")
                #expect(tracker.body.contains(#"title="expired""#), "Tracker: \(visibleText(tracker.body))")
                #expect(visibleText(tracker.body).contains("ACTIVE Expired"), "Tracker: \(visibleText(tracker.body))")
                #expect(!tracker.body.contains(#"title="retrying""#))
                let me = try await browser.get(fixture.base + "/organisations/demo/me")
                #expect(me.body.contains(#"title="expired""#), "/me: \(visibleText(me.body))")
                #expect(!me.body.contains(#"title="retrying""#))
                #expect(visibleText(me.body).contains("check that iManage is reachable"), "/me says what to do: \(visibleText(me.body))")
                #expect(try fixture.store.record(for: keys[0])?.status == .retrying, "the stored status is still retrying")
            }
        }

        /// Stores `key` as authorised with an access token that ran out a minute ago, then a failed
        /// refresh as the engine writes one (`retrying`, last error), with the next look an hour away.
        func storeRanOutWhileFailing(_ key: GrantKey, in fixture: WebFixture) async throws {
            let now = Date()
            let alice = AuthorizedIdentity(userID: "ALICE", email: "alice@example.com", name: "Alice Admin", customerID: "1")
            try await fixture.store.saveAuthorization(NewAuthorization(
                key: key, identity: alice,
                refreshToken: IssuedToken(token: "rt-\(key.subject)", issuedAt: now, expiresAt: now.addingTimeInterval(300 * 86_400)),
                accessToken: IssuedToken(token: "at-\(key.subject)", issuedAt: now.addingTimeInterval(-1_860), expiresAt: now.addingTimeInterval(-60)),
                nextRefreshAt: now.addingTimeInterval(3_600), nrtadminCheckedAt: key.kind == .library ? now : nil,
                message: "authorised", configuredCustomerID: "1"), now: now)
            let id = try #require(try fixture.store.record(for: key)?.id)
            let failure = RefreshFailure(.transient, httpStatus: 503, detail: "iManage answered with an error")
            var update = GrantUpdate(status: .retrying, message: "refresh failed, retrying: \(failure)", nextRefreshAt: now.addingTimeInterval(3_600))
            update.failure = failure
            _ = try await fixture.store.apply(update, toGrant: id, claimedBy: nil, now: now)
        }
    }
}

/// The token API on a Unix socket of its own, in front of the web fixture's store and engine.
struct TokenAPIUnderTest {
    let server: TokenAPIServer
    let directory: URL

    static func start(_ fixture: WebFixture) async throws -> TokenAPIUnderTest {
        // Short: a Unix socket path must fit in 108 bytes.
        let directory = URL(fileURLWithPath: "/tmp/tokend-web-api-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        chmod(directory.path, 0o700)  // private to this user: the socket needs no imanage-tokend group
        let server = try await TokenAPIServer.start(
            socketPath: directory.appendingPathComponent("api.sock").path,
            service: TokenAPIService(engine: fixture.engine, store: fixture.store), logger: Logger(label: "web-test"))
        return TokenAPIUnderTest(server: server, directory: directory)
    }

    func json(_ method: HTTPMethod, _ path: String) async throws -> (status: Int, body: [String: Any]) {
        let answer = try await DaemonClient(socketPath: server.socketPath).send(method, path)
        return (answer.status, try JSONSerialization.jsonObject(with: answer.body) as? [String: Any] ?? [:])
    }

    func stop() async {
        await server.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Runs `body`, then always stops `api`.
func withTeardownOf(_ api: TokenAPIUnderTest, _ body: () async throws -> Void) async throws {
    do { try await body() } catch {
        await api.stop()
        throw error
    }
    await api.stop()
}

/// `imanage-tokend status --json`, run as the binary built beside this test bundle.
enum StatusJSON {
    static var binary: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("imanage-tokend").path), directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("imanage-tokend")
    }

    static func run(config: String) throws -> [String: Any] {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["status", "--json", "--config", config]
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "IMANAGE_TOKEND_CONFIG")
        environment.removeValue(forKey: "CREDENTIALS_DIRECTORY")
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// The `status` of the line of `section` ("libraries", "users") whose id is `id`.
    static func status(of section: String, _ id: String, in report: [String: Any]) -> String? {
        (report[section] as? [[String: Any]])?.first { $0["id"] as? String == id }?["status"] as? String
    }
}
