import Hummingbird
import Logging
import ServiceLifecycle

/// A Hummingbird application running in a service group of its own, started and awaited until it
/// listens, with the shared listener limits. The one way a listener of the daemon is started.
///
/// ```swift
/// let server = try await RunningHTTPServer.start(router: router, host: "127.0.0.1", port: 0, limits: .web, logger: logger)
/// print(server.port)
/// await server.stop()
/// ```
public final class RunningHTTPServer: Sendable {
    /// The port listened on (the one the kernel chose for port 0).
    public let port: Int
    private let serviceGroup: ServiceGroup
    private let runTask: Task<Void, any Error>

    private init(port: Int, serviceGroup: ServiceGroup, runTask: Task<Void, any Error>) {
        self.port = port
        self.serviceGroup = serviceGroup
        self.runTask = runTask
    }

    /// Serves `router` on `host:port` and returns once it listens, or throws why it could not.
    public static func start<Context: RequestContext>(
        router: Router<Context>, host: String, port: Int, limits: ListenerLimits, logger: Logger
    ) async throws -> RunningHTTPServer where Context.Source == ApplicationRequestContextSource {
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)
        let (listening, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router,
            server: .limited(limits, logger: quiet),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: quiet)
        var configuration = ServiceGroupConfiguration(services: [application], logger: quiet)
        configuration.maximumGracefulShutdownDuration = .seconds(3)
        let serviceGroup = ServiceGroup(configuration: configuration)
        let runTask = Task {
            defer { continuation.finish() }
            try await serviceGroup.run()
        }
        var iterator = listening.makeAsyncIterator()
        guard let bound = await iterator.next(), bound > 0 else {
            do {
                try await runTask.value
                throw HTTPServerStartError(reason: "the server stopped before it listened")
            } catch let error as HTTPServerStartError {
                throw error
            } catch {
                throw HTTPServerStartError(reason: String(describing: error))
            }
        }
        return RunningHTTPServer(port: bound, serviceGroup: serviceGroup, runTask: runTask)
    }

    /// Stops listening (requests in flight get a few seconds) and returns once it is down.
    public func stop() async {
        await serviceGroup.triggerGracefulShutdown()
        _ = try? await runTask.value
    }
}

/// Why a listener could not be started.
public struct HTTPServerStartError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
