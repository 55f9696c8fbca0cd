import Foundation
import Synchronization
import Testing
import TokendPolicy
@testable import TokendStore

@Suite("Notifications outbox in the grant store")
struct NotificationOutboxTests {
    let key = GrantKey.library("ACTIVE", of: "acme")

    func failed(_ status: GrantStatus) -> GrantUpdate {
        GrantUpdate(status: status, message: "the refresh token was refused: authorise again", nextRefreshAt: nil)
    }

    @Test("a change into needs_reauth queues one notification with the change, and its recovery another")
    func problemAndRecovery() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        store.enableNotifications(repeatAfter: 3600)
        let wakes = Mutex(0)
        store.onNotificationsQueued { wakes.withLock { $0 += 1 } }
        try await store.saveAuthorization(authorization(key, refresh: "rt-secret-1", access: "at-secret-1"))
        #expect(try store.pendingNotifications().isEmpty)
        let id = try #require(try store.record(for: key)).id
        try await store.apply(failed(.needsReauth), toGrant: id, claimedBy: nil)
        // Queued in the same write: the grant's status and the row are both there, and the delivery was woken.
        #expect(try store.record(for: key)?.status == .needsReauth)
        let problem = try #require(try store.pendingNotifications().first)
        #expect(problem.event == .problem && problem.status == .needsReauth && problem.previousStatus == .authorized)
        #expect(problem.kind == "library" && problem.subject == "ACTIVE" && problem.organisation == "acme")
        #expect(problem.authorizedByEmail == "alice@example.com")
        #expect(wakes.withLock { $0 } == 1)
        // A second failure without a change queues nothing.
        try await store.apply(failed(.needsReauth), toGrant: id, claimedBy: nil)
        try await store.saveAuthorization(authorization(key, refresh: "rt-secret-2", access: "at-secret-2"))
        let all = try store.pendingNotifications()
        #expect(all.map(\.event) == [.problem, .recovery])
        #expect(all[1].previousStatus == .needsReauth && all[1].status == .authorized)
        // In order, and gone once delivered.
        try await store.deleteNotification(id: all[0].id)
        #expect(try store.pendingNotifications().map(\.id) == [all[1].id])
        #expect(try store.pendingNotificationCount() == 1)
        // No token is stored in the outbox.
        let raw = String(decoding: try db.rawBytes(), as: UTF8.self)
        #expect(!raw.contains("rt-secret") && !raw.contains("at-secret"))
    }

    @Test("without [notify] nothing is queued")
    func offByDefault() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        try await store.saveAuthorization(authorization(key, refresh: "rt", access: "at"))
        try await store.apply(failed(.needsReauth), toGrant: try #require(try store.record(for: key)).id, claimedBy: nil)
        #expect(try store.pendingNotificationCount() == 0)
    }

    @Test("an organisation-wide client_error queues one notification, not one per grant")
    func oneForTheOrganisation() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        store.enableNotifications(repeatAfter: 3600)
        var ids: [Int64] = []
        for user in ["A", "B", "C"] {
            let userKey = GrantKey.user(user, of: "acme")
            try await store.saveAuthorization(authorization(userKey, refresh: "rt", access: "at"))
            ids.append(try #require(try store.record(for: userKey)).id)
        }
        try await store.apply(failed(.clientError), toGrant: ids[0], claimedBy: nil)
        _ = try await store.setStatus(.clientError, ofGrants: [ids[1], ids[2]], message: "paused")
        let pending = try store.pendingNotifications()
        #expect(pending.count == 1)
        #expect(pending.first?.kind == "organisation" && pending.first?.subject == "acme" && pending.first?.authorizedByEmail == nil)
    }

    @Test("a flapping grant is announced once per interval per status")
    func flapping() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        store.enableNotifications(repeatAfter: 3600)
        let start = Date()
        try await store.saveAuthorization(authorization(key, refresh: "rt", access: "at", now: start), now: start)
        let id = try #require(try store.record(for: key)).id
        for minute in 0..<5 {
            let at = start.addingTimeInterval(Double(minute) * 60)
            try await store.apply(failed(.needsReauth), toGrant: id, claimedBy: nil, now: at)
            try await store.saveAuthorization(authorization(key, refresh: "rt", access: "at", now: at), now: at.addingTimeInterval(1))
        }
        #expect(try store.pendingNotifications().map(\.event) == [.problem, .recovery])
        // After the interval it is told again.
        let later = start.addingTimeInterval(3700)
        try await store.apply(failed(.needsReauth), toGrant: id, claimedBy: nil, now: later)
        #expect(try store.pendingNotifications().map(\.event) == [.problem, .recovery, .problem])
    }

    @Test("a refresh-token warning queues a notification")
    func warning() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        store.enableNotifications(repeatAfter: 3600)
        try await store.saveAuthorization(authorization(key, refresh: "rt", access: "at"))
        var update = GrantUpdate(status: .authorized, message: "the refresh token expires at …", nextRefreshAt: nil)
        update.alwaysRecordEvent = true
        update.refreshTokenWarning = true
        try await store.apply(update, toGrant: try #require(try store.record(for: key)).id, claimedBy: nil)
        #expect(try store.pendingNotifications().map(\.event) == [.refreshTokenExpiring])
    }

    @Test("a channel that delivered is remembered, so a retry does not repeat it")
    func channelsRemembered() async throws {
        let db = TemporaryDatabase()
        defer { db.cleanUp() }
        let store = try db.open()
        store.enableNotifications(repeatAfter: 3600)
        try await store.saveAuthorization(authorization(key, refresh: "rt", access: "at"))
        try await store.apply(failed(.needsReauth), toGrant: try #require(try store.record(for: key)).id, claimedBy: nil)
        let id = try #require(try store.pendingNotifications().first).id
        try await store.markNotificationDelivered(id: id, by: .command)
        try await store.countNotificationAttempt(id: id)
        let again = try #require(try db.open().pendingNotifications().first)
        #expect(again.commandDone && !again.webhookDone && again.attempts == 1)
    }
}
