import Foundation
import Hummingbird
import Logging
import Synchronization
import TokendTestSupport

/// A webhook receiver for the notification tests: a real HTTP server on 127.0.0.1 that records
/// each POST (its signature header and body) and answers 200.
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var signature: String?
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    private let server: RunningTestServer
    private let log: DeliveryLog
    var port: Int { server.port }

    var deliveries: [Delivery] { log.box.withLock { $0 } }
    var url: String { "http://127.0.0.1:\(port)/hook" }

    private init(server: RunningTestServer, log: DeliveryLog) {
        self.server = server
        self.log = log
    }

    /// Starts on `port` (0: one the kernel picks); `log` collects the deliveries across restarts.
    static func start(port: Int = 0, log: DeliveryLog = DeliveryLog()) async throws -> WebhookReceiver {
        let router = Router(context: BasicRequestContext.self)
        router.post("/hook") { request, _ -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 1 << 20)
            let signature = request.headers.first { $0.name.canonicalName == "x-tokend-signature" }?.value
            log.append(Delivery(signature: signature, body: Data(body.readableBytesView)))
            return .ok
        }
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        let server = try await RunningTestServer.start { onServerRunning in
            Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), onServerRunning: onServerRunning,
                logger: logger)
        }
        return WebhookReceiver(server: server, log: log)
    }

    func stop() async { await server.stop() }

    /// Waits until `count` deliveries arrived, for at most `seconds`.
    func waitFor(_ count: Int, upTo seconds: Double = 20) async throws -> Bool {
        try await eventually(upTo: seconds, every: .milliseconds(100)) { deliveries.count >= count }
    }
}

/// The deliveries a receiver got, kept when the receiver restarts on the same port.
final class DeliveryLog: Sendable {
    let box = Mutex<[WebhookReceiver.Delivery]>([])
    func append(_ delivery: WebhookReceiver.Delivery) { box.withLock { $0.append(delivery) } }
}
