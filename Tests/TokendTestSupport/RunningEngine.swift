import Foundation
import IManageClient
import IManageEmulator
import Logging
import TokendConfig
import TokendEngine
import TokendStore

/// The daemon's refreshing half in this process, for a test: the engine over a real store,
/// refreshing at the in-process emulator over real HTTP, its loop running in a task. The
/// fixtures of the engine, the token API and the web pages are built on it.
public struct RunningEngine: Sendable {
    public let emulator: IManageEmulator
    public let store: SQLiteGrantStore
    public let client: IManageHTTPClient
    public let engine: RefreshEngine
    public let runner: Task<Void, Never>
    /// The test's directory (configuration, key, database), removed by ``stop()``.
    public let directory: URL

    /// Starts the engine (it schedules what `store` holds) and its loop, owner `daemon:test`; the
    /// client logs to `clientLogger`, else to `logger`.
    public static func start(
        configuration: TokendConfiguration, store: SQLiteGrantStore, emulator: IManageEmulator, directory: URL,
        requestTimeout: Double, logger: Logger = Logger(label: "test"), clientLogger: Logger? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> RunningEngine {
        let client = try IManageHTTPClient(
            settings: IManageClientSettings(connectTimeout: 2, requestTimeout: requestTimeout), logger: clientLogger ?? logger)
        let engine = RefreshEngine(configuration: configuration, store: store, client: client, owner: "daemon:test", logger: logger, now: now)
        try await engine.start()
        let runner = Task { await engine.run() }
        return RunningEngine(emulator: emulator, store: store, client: client, engine: engine, runner: runner, directory: directory)
    }

    /// Stops the engine and waits until its loop has ended, then the client and the emulator; removes the directory.
    public func stop() async {
        engine.stop()
        await runner.value
        await client.shutdown()
        await emulator.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
