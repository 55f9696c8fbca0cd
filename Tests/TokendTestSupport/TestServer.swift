import Hummingbird
import NIOCore

/// A test's own HTTP server (a fake iManage, a webhook receiver) running in a task, on the port it bound.
public struct RunningTestServer: Sendable {
    public let port: Int
    private let task: Task<Void, any Error>

    /// Starts the application that `make` builds, handing it the `onServerRunning` it must pass on,
    /// and returns once the server listens. A port of 0 in its address is one the kernel picks.
    public static func start<App: ApplicationProtocol>(
        _ make: (_ onServerRunning: @escaping @Sendable (any Channel) async -> Void) -> App
    ) async throws -> RunningTestServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = make { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
            continuation.finish()
        }
        let task = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw TestServerDidNotStart()
        }
        return RunningTestServer(port: port, task: task)
    }

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// A test server never said it listens: its port may be taken (when a test names one) or it failed to bind.
public struct TestServerDidNotStart: Error, CustomStringConvertible {
    public var description: String { "the test server did not start listening on 127.0.0.1: is its port taken?" }
}
