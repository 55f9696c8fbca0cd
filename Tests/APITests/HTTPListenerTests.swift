import Hummingbird
import Logging
import ServiceLifecycle
import Testing
import TokendHTTP
import TokendTestSupport

/// `HTTPListener` in a service group, as the daemon runs its listeners: one that cannot listen is
/// reported through its outcome and ends nothing; the others and the rest of the group go on.
@Suite("HTTP listeners in one service group")
struct HTTPListenerTests {
    struct CannotListen: Error, CustomStringConvertible {
        var description: String
    }

    /// A service that runs until the group shuts down, as the engine does.
    struct UntilShutdown: Service {
        func run() async throws { try await gracefulShutdown() }
    }

    static func listener(_ name: String, port: Int) -> HTTPListener {
        let router = Router()
        router.get("/hello") { _, _ in "hello from \(name)" }
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return HTTPListener(
            name: name, address: .hostname("127.0.0.1", port: port), router: router, limits: .api, logger: logger,
            cannotListen: { CannotListen(description: "cannot serve \(name): \($0)") })
    }

    @Test("a listener whose port is taken fails once, with its reason; the group and the other listener go on")
    func failedListenerDoesNotEndTheGroup() async throws {
        // The port is taken by a first listener, started alone.
        let first = try await ListenerUnderTest.start(Self.listener("first", port: 0))
        try await withTeardown({ await first.stop() }) {
            let taken = Self.listener("taken", port: first.port)
            let second = Self.listener("second", port: 0)
            var logger = Logger(label: "test")
            logger.logLevel = .warning
            let group = ServiceGroup(configuration: ServiceGroupConfiguration(
                services: [taken.serviceConfiguration, second.serviceConfiguration, .init(service: UntilShutdown())], logger: logger))
            let running = Task { try await group.run() }
            try await withTeardown({
                await group.triggerGracefulShutdown()
                _ = try? await running.value
            }) {
                guard case .failed(let error) = await taken.outcome else {
                    Issue.record("a listener on a taken port says it listens")
                    return
                }
                #expect("\(error)".hasPrefix("cannot serve taken: "))
                guard case .listening(let port) = await second.outcome else {
                    Issue.record("the second listener did not listen")
                    return
                }
                // The group runs on: the other listener still answers a while after the failure.
                try await Task.sleep(for: .milliseconds(200))
                #expect(try await RawConnection.open(port: port).request(RawConnection.get("/hello")) == 200)
                #expect(try await RawConnection.open(port: first.port).request(RawConnection.get("/hello")) == 200)
            }
            // And it ends when asked to, not before.
            try await running.value
        }
    }
}
