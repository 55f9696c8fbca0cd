import Foundation
import Synchronization
import Testing
import TokendPolicy
@testable import TokendStore

/// The notifications outbox: written in the transaction of the change that causes it.
@Suite("Store contract: notifications outbox")
struct StoreContractOutboxTests {
    @Test("a change queues one notification and wakes the delivery; repeats are held back; delivery marks and deletes",
          arguments: StoreFactory.available)
    func outbox(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let key = GrantKey.library("ACTIVE", of: "acme")
            _ = try await store.saveAuthorization(authorization(key, refresh: "rt-secret", access: "at-secret"), now: Date())
            let id = try #require(try await store.record(for: key)).id
            let refused = GrantUpdate(status: .needsReauth, message: "refused", nextRefreshAt: nil)
            // Without notifications enabled, nothing is queued.
            _ = try await store.apply(refused, toGrant: id, claimedBy: nil, now: Date())
            #expect(try await store.pendingNotificationCount() == 0)

            store.enableNotifications(repeatAfter: 3600)
            let wakes = Mutex(0)
            store.onNotificationsQueued { wakes.withLock { $0 += 1 } }
            _ = try await store.saveAuthorization(authorization(key, refresh: "rt-secret-2", access: "at-secret-2"), now: Date())
            _ = try await store.apply(refused, toGrant: id, claimedBy: nil, now: Date())
            let pending = try await store.pendingNotifications(limit: 10)
            #expect(pending.map(\.event) == [.recovery, .problem])
            let problem = pending[1]
            #expect(problem.status == .needsReauth && problem.previousStatus == .authorized && problem.subject == "ACTIVE")
            #expect(problem.kind == "library" && problem.organisation == "acme" && problem.authorizedByEmail == "alice@example.com")
            #expect(!problem.commandDone && !problem.webhookDone && problem.attempts == 0)
            #expect(wakes.withLock { $0 } == 2)
            // The same problem again within repeatAfter is not queued again.
            _ = try await store.saveAuthorization(authorization(key, refresh: "rt-3", access: "at-3"), now: Date())
            _ = try await store.apply(refused, toGrant: id, claimedBy: nil, now: Date())
            #expect(try await store.pendingNotifications(limit: 10).map(\.event) == [.recovery, .problem])
            #expect(try await store.pendingNotifications(limit: 1).map(\.id) == [pending[0].id])

            try await store.markNotificationDelivered(id: problem.id, by: .command)
            try await store.countNotificationAttempt(id: problem.id)
            let marked = try #require(try await store.pendingNotifications(limit: 10).last)
            #expect(marked.commandDone && !marked.webhookDone && marked.attempts == 1)
            try await store.deleteNotification(id: pending[0].id)
            #expect(try await store.pendingNotifications(limit: 10).map(\.id) == [problem.id])
            #expect(try await store.pendingNotificationCount() == 1)
            store.notificationsMayBeWaiting()
            #expect(wakes.withLock { $0 } == 3)
        }
    }

    /// Receivers drop duplicates by `notification_id` (delivery is at least once), so an id must
    /// never name two notifications, even after the first was delivered and deleted.
    @Test("a notification id is never given again after its notification was delivered", arguments: StoreFactory.available)
    func idsNeverReused(_ factory: StoreFactory) async throws {
        try await withStore(factory) { subject in
            let store = subject.store
            let key = GrantKey.library("ACTIVE", of: "acme")
            store.enableNotifications(repeatAfter: 0)
            let refused = GrantUpdate(status: .needsReauth, message: "refused", nextRefreshAt: nil)
            var seen: [Int64] = []
            for round in 0..<3 {
                _ = try await store.saveAuthorization(authorization(key, refresh: "rt-\(round)", access: "at-\(round)"), now: Date())
                let id = try #require(try await store.record(for: key)).id
                _ = try await store.apply(refused, toGrant: id, claimedBy: nil, now: Date())
                for notification in try await store.pendingNotifications(limit: 10) {
                    seen.append(notification.id)
                    try await store.deleteNotification(id: notification.id)
                }
            }
            #expect(seen.count >= 3)
            #expect(Set(seen).count == seen.count, "ids given twice: \(seen)")
        }
    }
}
