import Foundation
import Hummingbird
import Logging
import NIOCore
import Testing
import TokendAPI
import TokendHTTP
import TokendTestSupport

/// The limits both listeners share (`ListenerLimits`): idle timeout, connection limit, request
/// size. Over TCP with a small server built as the web pages build theirs, and over the token
/// API's Unix socket.
@Suite("Listener limits: idle timeout, connections, request size", .serialized)
struct ListenerLimitsTests {
    /// A one-route server on 127.0.0.1, port from the kernel, held to `limits`.
    final class SmallServer: Sendable {
        let port: Int
        /// The connections the server holds open now.
        let counter = ConnectionCounter()
        private let listening: ListenerUnderTest

        init(limits: ListenerLimits) async throws {
            let router = Router()
            router.get("/hello") { _, _ in "hello" }
            router.post("/echo") { request, _ in
                var request = request
                return "\(try await request.collectBody(upTo: 1 << 20).readableBytes)"
            }
            var logger = Logger(label: "test")
            logger.logLevel = .warning
            listening = try await ListenerUnderTest.start(HTTPListener(
                name: "small server", address: .hostname("127.0.0.1", port: 0), router: router, limits: limits, counter: counter,
                logger: logger))
            port = listening.port
        }

        func stop() async { await listening.stop() }
    }

    func connections(_ count: Int, port: Int) async throws -> [RawConnection] {
        var opened: [RawConnection] = []
        for _ in 0..<count { opened.append(try await RawConnection.open(port: port)) }
        return opened
    }

    func connections(_ count: Int, unixPath: String) async throws -> [RawConnection] {
        var opened: [RawConnection] = []
        for _ in 0..<count { opened.append(try await RawConnection.open(unixPath: unixPath)) }
        return opened
    }

    @Test("clients that connect and send nothing are closed after the idle timeout, and a real client is served meanwhile")
    func idleClients() async throws {
        // 1.5 s: long enough that the real client, on a machine busy with the whole suite, is not
        // itself idle that long between connecting and sending (at 0.5 s it was, now and then).
        let server = try await SmallServer(limits: ListenerLimits(idleTimeout: .milliseconds(1500), maximumConnections: 16))
        try await withTeardown({ await server.stop() }) {
            let idle = try await connections(8, port: server.port)
            // A real client is answered while they sit there.
            #expect(try await RawConnection.request(RawConnection.get("/hello"), port: server.port) == 200)
            // Each idle one is closed by the server, well within a bounded wait.
            let started = Date()
            for connection in idle { #expect(await connection.read(within: 6) == .closed) }
            #expect(Date().timeIntervalSince(started) < 5)
            // And a new client is served after.
            #expect(try await RawConnection.open(port: server.port).request(RawConnection.get("/hello")) == 200)
        }
    }

    @Test("a connection over the limit is closed at once; those open go on being served")
    func connectionLimit() async throws {
        let server = try await SmallServer(limits: ListenerLimits(idleTimeout: .seconds(30), maximumConnections: 3))
        try await withTeardown({ await server.stop() }) {
            let open = try await connections(3, port: server.port)
            for connection in open { #expect(await connection.request(RawConnection.get("/hello")) == 200) }
            let over = try await RawConnection.open(port: server.port)
            #expect(await over.read(within: 3) == .closed)
            // The server counts it closed when its channel goes inactive, a moment after the client sees the close.
            let settled = ContinuousClock.now + .seconds(3)
            while server.counter.open != 3, ContinuousClock.now < settled { try await Task.sleep(for: .milliseconds(20)) }
            #expect(server.counter.open == 3)
            for connection in open { #expect(await connection.request(RawConnection.get("/hello")) == 200) }
            // A slot freed is a slot again.
            await open[0].send(RawConnection.get("/hello", keepAlive: false))
            _ = await open[0].read(within: 3)
            #expect(await open[0].read(within: 3) == .closed)
            open[0].hangUp()
            var served = false
            for _ in 0..<20 where !served {
                served = try await RawConnection.open(port: server.port).request(RawConnection.get("/hello"), within: 2) == 200
                if !served { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(served)
        }
    }

    @Test("a body over the limit gets 413, by length or chunked, and the server keeps serving")
    func bodyLimit() async throws {
        let server = try await SmallServer(limits: ListenerLimits(maximumConnections: 16, maximumBodySize: 1024))
        try await withTeardown({ await server.stop() }) {
            let small = try await RawConnection.open(port: server.port)
            #expect(await small.request("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789") == 200)
            let large = try await RawConnection.open(port: server.port)
            #expect(await large.request("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + String(repeating: "a", count: 5000)) == 413)
            let chunk = String(repeating: "b", count: 2000)
            let chunked = try await RawConnection.open(port: server.port)
            #expect(await chunked.request("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n\(chunk)\r\n0\r\n\r\n") == 413)
            #expect(try await RawConnection.open(port: server.port).request(RawConnection.get("/hello")) == 200)
            #expect(await small.request(RawConnection.get("/hello")) == 200)
        }
    }

    @Test("a request head over the bounds is not served, and the server keeps serving")
    func headerLimit() async throws {
        let server = try await SmallServer(limits: ListenerLimits(maximumConnections: 16, maximumHeaderFieldSize: 1024))
        try await withTeardown({ await server.stop() }) {
            let large = try await RawConnection.open(port: server.port)
            let answer = await large.request("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "h", count: 4096))\r\n\r\n")
            #expect(answer != 200)
            #expect(try await RawConnection.open(port: server.port).request(RawConnection.get("/hello")) == 200)
        }
    }

    @Test("the token API: a body over 64 KiB gets 413 as JSON; idle and over-limit clients do not stop a real one")
    func tokenAPI() async throws {
        let fixture = try await APIFixture.start(limits: ListenerLimits(idleTimeout: .milliseconds(500), maximumConnections: 4))
        try await withTeardown({ await fixture.stop() }) {
            let large = try await RawConnection.open(unixPath: fixture.socketPath)
            await large.send("POST /v1/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 70000\r\n\r\n")
            guard case .data(let answer) = await large.read(within: 5) else {
                Issue.record("no answer to a large body")
                return
            }
            #expect(answer.hasPrefix("HTTP/1.1 413"))
            #expect(answer.contains(#""error": "too_large""#))
            #expect(try await fixture.daemon.send(.GET, "/v1/status").status == 200)

            let idle = try await connections(4, unixPath: fixture.socketPath)
            let over = try await RawConnection.open(unixPath: fixture.socketPath)
            #expect(await over.read(within: 3) == .closed)
            for connection in idle { #expect(await connection.read(within: 5) == .closed) }
            #expect(try await fixture.daemon.send(.GET, "/v1/status").status == 200)
        }
    }
}
