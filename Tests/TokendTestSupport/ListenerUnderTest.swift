import Logging
import ServiceLifecycle
import TokendHTTP

/// One of the daemon's listeners (the token API, the web pages) started alone for a test, in a
/// service group of its own, as the daemon runs it in its group.
public struct ListenerUnderTest: Sendable {
    /// The port it listens on (the kernel's choice for port 0); 0 on a Unix socket.
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// Runs `listener` and returns once it listens; throws why it could not (as the daemon would report it).
    public static func start(_ listener: HTTPListener) async throws -> ListenerUnderTest {
        var quiet = Logger(label: "listener-under-test")
        quiet.logLevel = .warning
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [listener.serviceConfiguration], logger: quiet))
        let task = Task { try await group.run() }
        switch await listener.outcome {
        case .listening(let port):
            return ListenerUnderTest(port: port, group: group, task: task)
        case .failed(let error):
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
    }

    /// Stops listening (requests in flight are finished) and returns once it is down.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
