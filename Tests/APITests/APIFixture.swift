import Foundation
import IManageClient
import IManageEmulator
import Logging
import TokendAPI
import TokendConfig
import TokendHTTP
import TokendEngine
import TokendPolicy
import TokendStore
import TokendTestSupport

/// The daemon's parts in this process: the emulator over real HTTP, a real store, the engine,
/// and the token API on a Unix socket in a temporary directory; lifetimes of seconds.
@dynamicMemberLookup
struct APIFixture {
    let running: RunningEngine
    let server: TokenAPIServer
    subscript<Part>(dynamicMember part: KeyPath<RunningEngine, Part>) -> Part { running[keyPath: part] }
    var socketPath: String { server.socketPath }
    var daemon: DaemonClient { DaemonClient(socketPath: socketPath) }

    /// - Parameters:
    ///   - socketGroup: the API socket's group; `nil` for the configuration's (`api_socket_group`, else `imanage-tokend`).
    ///   - directoryMode: 0700 (private: a missing group is only a note), or e.g. 0755 so another uid reaches the socket.
    ///   - topLevel, tables: configuration lines added before the first table, and at the end.
    static func start(
        accessTokenLifetime: Int = 6, minimumInterval: Double = 0.5, socketGroup: String? = nil,
        libraries: [String] = ["ACTIVE"], directoryMode: Int = 0o700, topLevel: String = "", tables: String = "",
        limits: ListenerLimits = .api
    ) async throws -> APIFixture {
        let emulator = try await IManageEmulator.startForTest(accessTokenLifetime: accessTokenLifetime)

        let directory = try DaemonDirectory("tokend-api", forSockets: true, mode: directoryMode)
        let key = directory.writeKey()
        directory.writeSecret()
        let organisations = [TestOrganisation(at: emulator.baseURL), TestOrganisation("off", at: emulator.baseURL, enabled: false)]
        let configPath = try directory.writeConfiguration(TestConfiguration(
            topLevel: topLevel, refresh: TestConfiguration.quickRefresh(minimumInterval: minimumInterval, extra: ["startup_refreshes_per_second = 100"]),
            organisations: organisations, tables: tables))
        chmod(configPath, 0o644)
        let configuration = try TokendConfiguration.load(path: configPath, environment: [:])
        let store = try SQLiteGrantStore(path: configuration.database, key: key)
        for library in libraries {
            try await store.saveAuthorization(try authorization(emulator, key: .library(library, of: "demo"), nextRefreshAt: Date()))
        }
        let running = try await RunningEngine.start(
            configuration: configuration, store: store, emulator: emulator, directory: directory.url, requestTimeout: 3)
        let server: TokenAPIServer
        do {
            server = try await TokenAPIServer.start(
                socketPath: configuration.apiSocket, service: TokenAPIService(engine: running.engine, store: store), group: socketGroup,
                limits: limits, logger: Logger(label: "test"))
        } catch {
            await running.stop()
            throw error
        }
        return APIFixture(running: running, server: server)
    }

    /// A new authorisation of `key` by Alice with a refresh token minted by the emulator.
    static func authorization(_ emulator: IManageEmulator, key: GrantKey, nextRefreshAt: Date?) throws -> NewAuthorization {
        .seeded(key, refreshToken: try emulator.mintRefreshToken(), refreshLife: 300 * 86_400, nextRefreshAt: nextRefreshAt)
    }

    /// Waits until `condition` holds, polling every 50 ms, for at most `seconds`.
    func wait(upTo seconds: Double, until condition: () throws -> Bool) async throws -> Bool {
        try await eventually(upTo: seconds, condition)
    }

    /// The JSON object of an answer.
    static func object(_ answer: DaemonClient.Answer) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: answer.body) as? [String: Any] ?? [:]
    }

    func stop() async {
        await server.stop()
        await running.stop()
    }
}
