import Foundation
import Hummingbird
import Logging
import Synchronization

/// A webhook receiver for the notification tests: a real HTTP server on 127.0.0.1 that records
/// each POST (its signature header and body) and answers 200.
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var signature: String?
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    let port: Int
    private let log: DeliveryLog
    private let task: Task<Void, any Error>

    var deliveries: [Delivery] { log.box.withLock { $0 } }
    var url: String { "http://127.0.0.1:\(port)/hook" }

    private init(port: Int, log: DeliveryLog, task: Task<Void, any Error>) {
        self.port = port
        self.log = log
        self.task = task
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
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger)
        let task = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next(), bound > 0 else {
            task.cancel()
            throw CocoaError(.featureUnsupported)
        }
        return WebhookReceiver(port: bound, log: log, task: task)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    /// Waits until `count` deliveries arrived, for at most `seconds`.
    func waitFor(_ count: Int, upTo seconds: Double = 20) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if deliveries.count >= count { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return deliveries.count >= count
    }
}

/// The deliveries a receiver got, kept when the receiver restarts on the same port.
final class DeliveryLog: Sendable {
    let box = Mutex<[WebhookReceiver.Delivery]>([])
    func append(_ delivery: WebhookReceiver.Delivery) { box.withLock { $0.append(delivery) } }
}
