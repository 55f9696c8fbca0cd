import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Synchronization
import TokendConfig
import TokendPolicy
import TokendStore

/// Delivers the notifications outbox, oldest first, to `[notify]`'s command and/or webhook.
///
/// Woken by the store whenever a write queued a notification (no polling); after a failure it
/// waits with exponential backoff and tries the same notification again, so they stay in order.
/// A row is deleted only after every configured channel took it, and a channel that took it is
/// remembered, so a retry does not repeat it. Rows left by a crash are delivered at start.
public final class NotificationDispatcher: Sendable {
    private let configuration: TokendConfiguration
    private let notify: NotifyConfig
    private let store: any GrantStore
    private let logger: Logger
    private let command: CommandDelivery?
    private let webhook: WebhookDelivery?
    private let httpClient: HTTPClient?
    private let retryInitial: TimeInterval
    private let retryMaximum: TimeInterval
    private let wakes: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// `retryInitial` and `retryMaximum` bound the backoff between attempts of a failing delivery.
    public init(
        configuration: TokendConfiguration, notify: NotifyConfig, store: any GrantStore, logger: Logger,
        retryInitial: TimeInterval = 1, retryMaximum: TimeInterval = 300
    ) {
        self.configuration = configuration
        self.notify = notify
        self.store = store
        self.logger = logger
        self.retryInitial = retryInitial
        self.retryMaximum = retryMaximum
        command = notify.command.map { CommandDelivery(command: $0, timeout: notify.commandTimeout) }
        if let url = notify.webhookURL {
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(
                redirectConfiguration: .disallow, timeout: .init(connect: .seconds(Int64(max(1, notify.webhookTimeout))))))
            httpClient = client
            webhook = WebhookDelivery(url: url, secret: notify.webhookSecret?.reveal() ?? "", timeout: notify.webhookTimeout, client: client)
        } else {
            httpClient = nil
            webhook = nil
        }
        (wakes, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let continuation = wakeContinuation
        store.enableNotifications(repeatAfter: notify.repeatAfter)
        store.onNotificationsQueued { continuation.yield() }
    }

    /// Starts delivering in the background (what is waiting first).
    public func start() {
        let running = Task { await self.run() }
        task.withLock { $0 = running }
    }

    /// Stops delivering (an attempt under way is abandoned and made again at the next start) and
    /// closes the webhook's HTTP client.
    public func stop() async {
        wakeContinuation.finish()
        let running = task.withLock { $0 }
        running?.cancel()
        await running?.value
        try? await httpClient?.shutdown()
    }

    private func run() async {
        var wakeups = wakes.makeAsyncIterator()
        var failures = 0
        while !Task.isCancelled {
            let batch: [PendingNotification]
            do { batch = try await store.pendingNotifications(limit: 100) } catch {
                failures += 1
                if failures == 1 { logger.error("the notifications outbox cannot be read: \(error); trying again with backoff") }
                guard await pause(afterFailures: failures) else { return }
                continue
            }
            if batch.isEmpty {
                guard await wakeups.next() != nil else { return }
                continue
            }
            for pending in batch {
                do {
                    try await deliver(pending)
                } catch {
                    if Task.isCancelled { return }
                    failures += 1
                    let delay = NotificationRule.retryDelay(afterFailures: failures, initial: retryInitial, maximum: retryMaximum)
                    let waiting = (try? await store.pendingNotificationCount()) ?? batch.count
                    // Said once per failure streak; every attempt is at debug level.
                    if failures == 1 {
                        logger.error("notifications cannot be delivered: \(error); \(waiting) waiting, kept in the database and tried again with backoff",
                                     metadata: Self.fields(pending))
                    } else {
                        logger.debug("notification delivery failed again (attempt \(failures)): \(error); next in \(Int(delay))s",
                                     metadata: Self.fields(pending))
                    }
                    try? await store.countNotificationAttempt(id: pending.id)
                    guard await pause(afterFailures: failures) else { return }
                    break
                }
                if failures > 0 {
                    logger.notice("notifications are delivered again, after \(failures) failed attempts", metadata: Self.fields(pending))
                    failures = 0
                }
            }
        }
    }

    /// Waits before the next attempt; `false` when stopped meanwhile.
    private func pause(afterFailures failures: Int) async -> Bool {
        let delay = NotificationRule.retryDelay(afterFailures: failures, initial: retryInitial, maximum: retryMaximum)
        do { try await Task.sleep(for: .milliseconds(Int64(delay * 1000))) } catch { return false }
        return true
    }

    private func deliver(_ pending: PendingNotification) async throws {
        let facts = NotificationFacts(pending, configuration: configuration)
        if let command, !pending.commandDone {
            try await command.deliver(facts)
            if webhook != nil, !pending.webhookDone { try await store.markNotificationDelivered(id: pending.id, by: .command) }
        }
        if let webhook, !pending.webhookDone {
            try await webhook.deliver(facts)
        }
        try await store.deleteNotification(id: pending.id)
        logger.info("notified: \(facts.organisation) \(facts.kind) \(facts.id) \(facts.event) (\(facts.previousStatus.isEmpty ? "new" : facts.previousStatus) → \(facts.status))",
                    metadata: Self.fields(pending))
    }

    static func fields(_ pending: PendingNotification) -> Logger.Metadata {
        [
            "TOKEND_ORGANISATION": .string(pending.organisation),
            "TOKEND_KIND": .string(pending.kind),
            (pending.kind == "library" ? "TOKEND_LIBRARY" : pending.kind == "user" ? "TOKEND_USER" : "TOKEND_ID"): .string(pending.subject),
            "TOKEND_NOTIFICATION": .string(String(pending.id)),
        ]
    }
}
