import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// An emulated iManage Work server (OAuth 2.0 authorization server and the REST API the
/// daemon uses), listening on real HTTP.
///
/// ```swift
/// let emulator = try await IManageEmulator.start(.demo)
/// defer { Task { await emulator.stop() } }
/// print(emulator.baseURL)   // http://127.0.0.1:PORT
/// ```
///
/// The control methods (``addFault(_:)``, ``revokeUser(_:)``, ``mintGrants(user:clientID:count:)``, …)
/// do the same as the HTTP control API under `/_emulator/`. All methods are thread-safe.
public final class IManageEmulator: Sendable {
    /// `http://HOST:PORT`, without a trailing slash.
    public let baseURL: String
    /// The port listened on (the one picked when the configuration asked for port 0).
    public let port: Int
    let core: EmulatorCore
    private let serviceGroup: ServiceGroup
    private let runTask: Task<Void, any Error>

    private init(
        baseURL: String, port: Int, core: EmulatorCore, serviceGroup: ServiceGroup, runTask: Task<Void, any Error>
    ) {
        self.baseURL = baseURL
        self.port = port
        self.core = core
        self.serviceGroup = serviceGroup
        self.runTask = runTask
    }

    /// Starts serving `configuration` and returns once the server listens.
    ///
    /// - Parameter logger: Where the server logs; by default only warnings and errors, and
    ///   never per request. No token, code or password is ever logged.
    public static func start(
        _ configuration: EmulatorConfiguration = .demo, logger: Logger? = nil
    ) async throws -> IManageEmulator {
        try configuration.validate()
        let logger = logger ?? {
            var logger = Logger(label: "imanage-emulator")
            logger.logLevel = .warning
            return logger
        }()
        let core = EmulatorCore(configuration)
        let router = Router(context: EmulatorRequestContext.self)
        AuthorizeEndpoint(core: core, issuer: configuration.issuerParameter).register(on: router)
        TokenEndpoint(core: core).register(on: router)
        APIEndpoints(core: core).register(on: router)
        ControlAPI(core: core).register(on: router)

        let (listening, listeningContinuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "imanage-emulator"),
            onServerRunning: { channel in
                listeningContinuation.yield(channel.localAddress?.port ?? 0)
                listeningContinuation.finish()
            },
            logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(services: [application], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(5)
        let serviceGroup = ServiceGroup(configuration: groupConfiguration)
        let runTask = Task {
            defer { listeningContinuation.finish() }
            try await serviceGroup.run()
        }

        var iterator = listening.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            let reason: String
            do {
                try await runTask.value
                reason = "the server stopped before it listened"
            } catch {
                reason = String(describing: error)
            }
            throw EmulatorError.failedToStart(reason)
        }
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return IManageEmulator(
            baseURL: "http://\(host):\(port)", port: port, core: core, serviceGroup: serviceGroup, runTask: runTask)
    }

    /// Stops listening, lets held ("hanging") requests go, and returns when the server is down.
    public func stop() async {
        core.hangs.releaseAll(permanently: true)
        await serviceGroup.triggerGracefulShutdown()
        _ = try? await runTask.value
    }
}
