import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import Synchronization
import TokendTestSupport

/// What the test server received: enough to assert on what the client sent.
struct RecordedRequest: Sendable {
    var method: String
    var path: String
    var query: String?
    var uri: String
    var headers: [String: String]
    var body: [UInt8]

    /// The body read as a form: decoded names and values.
    var form: [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            fields[String(parts[0]).removingPercentEncoding ?? ""] = String(parts[1]).removingPercentEncoding
        }
        return fields
    }
}

/// A real HTTP(S) server on 127.0.0.1 (a free port) that answers like iManage would, as each
/// test tells it, and records every request.
final class TestIManageServer: Sendable {
    typealias Handler = @Sendable (RecordedRequest) async throws -> Response

    let scheme: String
    private let server: RunningTestServer
    private let recorded: RequestLog
    var port: Int { server.port }

    private init(server: RunningTestServer, scheme: String, recorded: RequestLog) {
        self.server = server
        self.scheme = scheme
        self.recorded = recorded
    }

    var requests: [RecordedRequest] { recorded.all }

    func url(_ path: String) -> URL { URL(string: "\(scheme)://127.0.0.1:\(port)\(path)")! }

    static func start(tls: NIOSSLContext? = nil, _ handler: @escaping Handler) async throws -> TestIManageServer {
        let log = RequestLog()
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let body = try await request.body.collect(upTo: 1 << 20)
            let record = RecordedRequest(
                method: request.method.rawValue, path: request.uri.path, query: request.uri.query,
                uri: request.uri.string, headers: headers, body: Array(body.readableBytesView))
            log.append(record)
            return try await handler(record)
        }
        var logger = Logger(label: "test-imanage-server")
        logger.logLevel = .critical
        let server = try await RunningTestServer.start { onServerRunning in
            Application(
                responder: responder,
                server: tls.map { HTTPServerBuilder.testTLS($0) } ?? .http1(),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: onServerRunning,
                logger: logger)
        }
        return TestIManageServer(server: server, scheme: tls == nil ? "http" : "https", recorded: log)
    }

    func stop() async { await server.stop() }
}

/// The requests a server received, in order.
final class RequestLog: Sendable {
    private let requests = Mutex<[RecordedRequest]>([])
    var all: [RecordedRequest] { requests.withLock { $0 } }
    func append(_ request: RecordedRequest) { requests.withLock { $0.append(request) } }
}

// MARK: - Answers

func jsonAnswer(_ body: String) -> Response { jsonAnswer(200, body) }

func jsonAnswer(_ status: Int, _ body: String, headers: [String: String] = [:]) -> Response {
    var fields = HTTPFields()
    fields[.contentType] = "application/json"
    for (name, value) in headers { fields[.init(name)!] = value }
    return Response(
        status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
}

func textAnswer(_ status: Int, _ body: String) -> Response {
    var fields = HTTPFields()
    fields[.contentType] = "text/html"
    return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
}

// MARK: - TLS

/// HTTP/1 behind TLS: Hummingbird's own TLS channel lives in HummingbirdTLS, which this test
/// target does not depend on, so this is the same few lines.
struct TestTLSChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel
    let context: NIOSSLContext

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    static func testTLS(_ context: NIOSSLContext) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in TestTLSChannel(base: HTTP1Channel(responder: responder), context: context) }
    }
}
