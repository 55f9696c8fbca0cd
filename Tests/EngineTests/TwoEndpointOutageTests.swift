import Foundation
import IManageClient
import IManageEmulator
import Logging
import Testing
import TokendConfig
import TokendPolicy
@testable import TokendStore
@testable import TokendEngine

/// Two organisations, each at its own emulator (its own token endpoint), and one engine on the
/// wall clock: an outage of one endpoint, seen as an administrator would over real HTTP.
struct TwoEndpointFixture {
    let emulators: [String: IManageEmulator]
    let store: SQLiteGrantStore
    let client: IManageHTTPClient
    let engine: RefreshEngine
    let directory: URL
    let runner: Task<Void, Never>

    static func start(users: [String], refreshSettings: String, accessTokenLifetime: Int) async throws -> TwoEndpointFixture {
        var emulators: [String: IManageEmulator] = [:]
        for name in ["a", "b"] {
            var settings = EmulatorConfiguration.demo
            settings.port = 0
            settings.accessTokenLifetime = accessTokenLifetime
            emulators[name] = try await IManageEmulator.start(settings)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-outage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("token.key").path, contents: Data(key), attributes: [.posixPermissions: 0o600])
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("secret").path, contents: Data("demo-secret".utf8), attributes: [.posixPermissions: 0o600])
        var toml = """
            database = "tokend.sqlite"
            key_file = "token.key"
            public_url = "http://127.0.0.1:8080"
            api_socket = "api.sock"
            [refresh]
            \(refreshSettings)

            """
        for (name, emulator) in emulators.sorted(by: { $0.key < $1.key }) {
            toml += """
                [[organisation]]
                name = "\(name)"
                use_default_configuration = false
                region = "custom"
                authorization_url = "\(emulator.baseURL)"
                token_url = "\(emulator.baseURL)"
                client_id = "tokend-demo"
                client_secret_file = "secret"
                customer_id = "1"

                """
        }
        let configPath = directory.appendingPathComponent("tokend.toml").path
        try toml.write(toFile: configPath, atomically: true, encoding: .utf8)
        let configuration = try TokendConfiguration.load(path: configPath, environment: [:])
        let store = try SQLiteGrantStore(path: configuration.database, key: key)
        for (name, emulator) in emulators {
            for user in users {
                let token = try emulator.mintGrants(user: "ALICE", clientID: "tokend-demo", count: 1)[0]
                try await store.saveAuthorization(NewAuthorization(
                    key: .user(user, of: name),
                    identity: AuthorizedIdentity(userID: "ALICE", email: "alice@example.com", name: "Alice Admin", customerID: "1"),
                    refreshToken: IssuedToken(token: token, issuedAt: Date(), expiresAt: Date().addingTimeInterval(86_400)),
                    accessToken: nil, nextRefreshAt: Date().addingTimeInterval(-1), message: "authorised"))
            }
        }
        let client = try IManageHTTPClient(
            settings: IManageClientSettings(connectTimeout: 2, requestTimeout: 3), logger: Logger(label: "test"))
        let engine = RefreshEngine(configuration: configuration, store: store, client: client, owner: "daemon:test", logger: Logger(label: "test"))
        try await engine.start()
        let runner = Task { await engine.run() }
        return TwoEndpointFixture(emulators: emulators, store: store, client: client, engine: engine, directory: directory, runner: runner)
    }

    func emulator(_ name: String) -> IManageEmulator { emulators[name]! }

    func records(of organisation: String) throws -> [GrantRecord] { try store.records(organisation: organisation, kind: nil) }

    func wait(upTo seconds: Double, until condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(25))
        }
        return try condition()
    }

    func stop() async {
        engine.stop()
        await runner.value
        await client.shutdown()
        for emulator in emulators.values { await emulator.stop() }
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite("An endpoint outage over real HTTP, two organisations at two endpoints", .serialized)
struct TwoEndpointOutageTests {
    /// Access tokens of 4 s (refreshed every 2 s), a backoff of 3 s doubling to 12 s: without the
    /// outage rules each grant would wait out its own step, up to 12 s, after the endpoint came back.
    static let settings = """
        minimum_interval_seconds = 0.2
        backoff_initial_seconds = 3
        backoff_max_seconds = 12
        startup_refreshes_per_second = 100
        outage_grants = 3
        outage_window_seconds = 10
        outage_probe_max_seconds = 1
        recovery_refreshes_per_second = 50
        """

    @Test("a's endpoint down: every request to it is the probe, b's grants refresh on untouched, and all of a's are authorised within seconds of its return")
    func outageOfOneEndpoint() async throws {
        let users = ["U1", "U2", "U3", "U4"]
        let fixture = try await TwoEndpointFixture.start(users: users, refreshSettings: Self.settings, accessTokenLifetime: 4)
        do {
            try #require(try await fixture.wait(upTo: 10) {
                try fixture.store.records().allSatisfy { $0.status == .authorized && $0.accessExpiresAt != nil }
            })
            let endpointA = EndpointOutage.name(of: try #require(fixture.engine.organisation(named: "a")).tokenURL)
            _ = try fixture.emulator("a").addFault(Fault(.serverError(status: 503), on: .token))
            let down = try await fixture.wait(upTo: 10) { try fixture.store.endpointOutages().map(\.endpoint) == [endpointA] }
            try #require(down, "a's endpoint was not marked down")
            let downAt = Date()
            #expect(try fixture.store.endpointOutages().first?.organisations == ["a"])

            // Let the requests that were out at that moment come back, then count for 4 s (a's tokens all run out).
            try await Task.sleep(for: .milliseconds(300))
            let requestsBefore = fixture.emulator("a").stats().total(.token)
            let probesBefore = try #require(try fixture.store.endpointOutages().first).failedProbes
            try await Task.sleep(for: .seconds(4))
            let requests = fixture.emulator("a").stats().total(.token) - requestsBefore
            let probes = try #require(try fixture.store.endpointOutages().first).failedProbes - probesBefore
            #expect(requests <= probes + 1, "\(requests) requests reached a's endpoint, only \(probes) of them probes")
            #expect(requests <= 6, "\(requests) requests in 4 s: more than one per probe step (at most 1 s apart)")
            #expect(try fixture.records(of: "a").allSatisfy { $0.status == .expired }, "a's grants did not turn expired")

            // b: untouched, refreshed throughout.
            #expect(try fixture.records(of: "b").allSatisfy { $0.status == .authorized && ($0.lastRefreshAt ?? .distantPast) > downAt },
                    "b's grants were not all refreshed while a's endpoint was down")
            #expect(try fixture.store.endpointOutages().map(\.endpoint) == [endpointA])

            fixture.emulator("a").clearFaults()
            let back = Date()
            let recovered = try await fixture.wait(upTo: 20) { try fixture.records(of: "a").allSatisfy { $0.status == .authorized } }
            let took = Date().timeIntervalSince(back)
            #expect(recovered, "a's grants not all authorised 20 s after the endpoint came back")
            #expect(took <= 3, "a's grants took \(took) s to be authorised again after the endpoint came back")
            #expect(try fixture.store.endpointOutages().isEmpty)
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }
}
