import Hummingbird
import Logging
import ServiceLifecycle

/// A Hummingbird application running in a service group of its own, started and awaited until it
/// listens, with the shared listener limits. The one way a listener of the daemon is started.
///
/// ```swift
/// let server = try await RunningHTTPServer.start(router: router, address: .hostname("127.0.0.1", port: 0), limits: .web, logger: logger)
/// print(server.port)
/// await server.stop()
/// ```
public final class RunningHTTPServer: Sendable {
    /// The port listened on (the one the kernel chose for port 0); 0 on a Unix socket.
    public let port: Int
    private let serviceGroup: ServiceGroup
    private let runTask: Task<Void, any Error>

    private init(port: Int, serviceGroup: ServiceGroup, runTask: Task<Void, any Error>) {
        self.port = port
        self.serviceGroup = serviceGroup
        self.runTask = runTask
    }

    /// Serves `router` at `address` and returns once it listens, or throws why it could not.
    /// `tooLarge` shapes the answer to a body over the limit (JSON for an API).
    public static func start<Responder: HTTPResponderBuilder>(
        router: Responder, address: BindAddress, limits: ListenerLimits, serverName: String? = nil,
        tooLarge: @escaping @Sendable (Int) -> (contentType: String, body: String) = RequestSizeLimit.plainText,
        logger: Logger
    ) async throws -> RunningHTTPServer where Responder.Responder.Context: RequestContext,
        Responder.Responder.Context.Source == ApplicationRequestContextSource
    {
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)
        let (listening, continuation) = AsyncStream.makeStream(of: Int?.self)
        let application = Application(
            router: router,
            server: .limited(limits, tooLarge: tooLarge, logger: quiet),
            configuration: ApplicationConfiguration(address: address, serverName: serverName),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port)  // nil on a Unix socket
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
        guard let listened = await iterator.next() else {
            do {
                try await runTask.value
                throw HTTPServerStartError(reason: "the server stopped before it listened")
            } catch let error as HTTPServerStartError {
                throw error
            } catch {
                throw HTTPServerStartError(reason: String(describing: error))
            }
        }
        return RunningHTTPServer(port: listened ?? 0, serviceGroup: serviceGroup, runTask: runTask)
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

