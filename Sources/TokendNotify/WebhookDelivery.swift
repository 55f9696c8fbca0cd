import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// POSTs one notification's JSON to `[notify] webhook_url`, signed, within its timeout. Any 2xx
/// answer is a delivery; anything else is retried later.
struct WebhookDelivery: Sendable {
    let url: URL
    let secret: String
    let timeout: TimeInterval
    let client: HTTPClient

    func deliver(_ facts: NotificationFacts) async throws(DeliveryFailure) {
        let body: Data
        do { body = try facts.jsonBody() } catch { throw DeliveryFailure("the notification could not be encoded: \(error)") }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "imanage-tokend")
        request.headers.add(name: WebhookSignature.header, value: WebhookSignature.sign(body, secret: secret))
        request.headers.add(name: "X-Tokend-Notification-Id", value: String(facts.notificationID))
        request.body = .bytes(ByteBuffer(bytes: body))
        // Only the host is named in messages: the path of a webhook URL may itself be a credential.
        let target = url.host.map { "the webhook at \($0)" } ?? "the webhook"
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            guard (200..<300).contains(response.status.code) else {
                throw DeliveryFailure("\(target) answered HTTP \(response.status.code)")
            }
        } catch let failure as DeliveryFailure {
            throw failure
        } catch {
            throw DeliveryFailure("\(target) could not be reached: \(String(describing: error))")
        }
    }
}
