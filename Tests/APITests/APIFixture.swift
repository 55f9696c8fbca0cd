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

/// The daemon's parts in this process: the emulator over real HTTP, a real store, the engine,
/// and the token API on a Unix socket in a temporary directory; lifetimes of seconds.
struct APIFixture {
    let emulator: IManageEmulator
    let store: SQLiteGrantStore
    let client: IManageHTTPClient
    let engine: RefreshEngine
    let server: TokenAPIServer
    let directory: URL
    let runner: Task<Void, Never>
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
        var emulatorConfiguration = EmulatorConfiguration.demo
        emulatorConfiguration.port = 0
        emulatorConfiguration.accessTokenLifetime = accessTokenLifetime
        let emulator = try await IManageEmulator.start(emulatorConfiguration)

        // Short: a Unix socket path must fit in 108 bytes.
        let directory = URL(fileURLWithPath: "/tmp/tokend-api-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        chmod(directory.path, mode_t(directoryMode))
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("token.key").path, contents: Data(key), attributes: [.posixPermissions: 0o600])
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("secret").path, contents: Data("demo-secret".utf8), attributes: [.posixPermissions: 0o600])
        let toml = """
            database = "tokend.sqlite"
            key_file = "token.key"
            public_url = "http://127.0.0.1:8080"
            api_socket = "api.sock"
            \(topLevel)
            [refresh]
            minimum_interval_seconds = \(minimumInterval)
            backoff_initial_seconds = 1
            backoff_max_seconds = 2
            startup_refreshes_per_second = 100
            [[organisation]]
            name = "demo"
            use_default_configuration = false
            region = "custom"
            authorization_url = "\(emulator.baseURL)"
            token_url = "\(emulator.baseURL)"
            client_id = "tokend-demo"
            client_secret_file = "secret"
            customer_id = "1"
            [[organisation]]
            name = "off"
            enabled = false
            use_default_configuration = false
            region = "custom"
            authorization_url = "\(emulator.baseURL)"
            token_url = "\(emulator.baseURL)"
            client_id = "tokend-demo"
            client_secret_file = "secret"
            customer_id = "1"
            \(tables)
            """
        let configPath = directory.appendingPathComponent("tokend.toml").path
        try toml.write(toFile: configPath, atomically: true, encoding: .utf8)
        chmod(configPath, 0o644)
        let configuration = try TokendConfiguration.load(path: configPath, environment: [:])
        let store = try SQLiteGrantStore(path: configuration.database, key: key)
        for library in libraries {
            try await store.saveAuthorization(try authorization(emulator, key: .library(library, of: "demo"), nextRefreshAt: Date()))
        }
        let client = try IManageHTTPClient(settings: IManageClientSettings(connectTimeout: 2, requestTimeout: 3), logger: Logger(label: "test"))
        let engine = RefreshEngine(configuration: configuration, store: store, client: client, owner: "daemon:test", logger: Logger(label: "test"))
        try await engine.start()
        let runner = Task { await engine.run() }
        let server: TokenAPIServer
        do {
            server = try await TokenAPIServer.start(
                socketPath: configuration.apiSocket, service: TokenAPIService(engine: engine, store: store), group: socketGroup,
                limits: limits, logger: Logger(label: "test"))
        } catch {
            engine.stop()
            await runner.value
            await client.shutdown()
            await emulator.stop()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        return APIFixture(emulator: emulator, store: store, client: client, engine: engine, server: server, directory: directory, runner: runner)
    }

    /// A new authorisation of `key` by Alice with a refresh token minted by the emulator.
    static func authorization(_ emulator: IManageEmulator, key: GrantKey, nextRefreshAt: Date?) throws -> NewAuthorization {
        let token = try emulator.mintGrants(user: "ALICE", clientID: "tokend-demo", count: 1)[0]
        return NewAuthorization(
            key: key,
            identity: AuthorizedIdentity(userID: "ALICE", email: "alice@example.com", name: "Alice Admin", customerID: "1"),
            refreshToken: IssuedToken(token: token, issuedAt: Date(), expiresAt: Date().addingTimeInterval(300 * 86_400)),
            accessToken: nil, nextRefreshAt: nextRefreshAt, message: "authorised")
    }

    /// Waits until `condition` holds, polling every 50 ms, for at most `seconds`.
    func wait(upTo seconds: Double, until condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try condition()
    }

    /// The JSON object of an answer.
    static func object(_ answer: DaemonClient.Answer) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: answer.body) as? [String: Any] ?? [:]
    }

    func stop() async {
        await server.stop()
        engine.stop()
        await runner.value
        await client.shutdown()
        await emulator.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
