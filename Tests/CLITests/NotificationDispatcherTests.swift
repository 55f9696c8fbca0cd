import Foundation
import Logging
import Testing
import TokendConfig
import TokendNotify
import TokendPolicy
import TokendStore

/// The delivery service in process, with a real command and a real webhook receiver: what it
/// repeats and what it does not when one of the two fails.
@Suite("Notification dispatcher in process")
struct NotificationDispatcherTests {
    @Test("with a command and a webhook, a webhook that is down is retried and the command is not run again")
    func partialDeliveryIsNotRepeated() async throws {
        let directory = URL(fileURLWithPath: "/tmp/tokend-notify-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("token.key").path, contents: Data(key),
                                           attributes: [.posixPermissions: 0o600])
        let runs = directory.appendingPathComponent("runs")
        let script = directory.appendingPathComponent("notify.sh")
        try "#!/bin/sh\necho \"$TOKEND_STATUS\" >> '\(runs.path)'\n".write(to: script, atomically: true, encoding: .utf8)
        chmod(script.path, 0o755)
        let configuration = try TokendConfiguration.load(
            contents: Array("public_url = \"https://tokend.example.com\"\nkey_file = \"token.key\"\ndatabase = \"tokend.sqlite\"\n".utf8),
            path: directory.appendingPathComponent("tokend.toml").path, environment: [:])

        let probe = try await WebhookReceiver.start()
        let port = probe.port
        await probe.stop()
        var notify = NotifyConfig(
            command: [script.path], webhookURL: URL(string: "http://127.0.0.1:\(port)/hook"), webhookSecret: Secret("s3cret"))
        notify.webhookTimeout = 0.5
        let store = try SQLiteGrantStore(path: configuration.database, key: key)
        let dispatcher = NotificationDispatcher(
            configuration: configuration, notify: notify, store: store, logger: Logger(label: "test"), retryInitial: 0.1, retryMaximum: 0.3)
        dispatcher.start()

        let grant = GrantKey.user("BOB", of: "acme")
        let now = Date()
        try await store.saveAuthorization(NewAuthorization(
            key: grant, identity: AuthorizedIdentity(userID: "BOB", email: "bob@example.com", name: "Bob", customerID: "1"),
            refreshToken: IssuedToken(token: "rt-never-shown", issuedAt: now, expiresAt: now.addingTimeInterval(86_400)),
            accessToken: nil, nextRefreshAt: nil, message: "imported"))
        let id = try #require(try store.record(for: grant)).id
        try await store.apply(GrantUpdate(status: .needsReauth, message: "refused", nextRefreshAt: nil), toGrant: id, claimedBy: nil)

        // The webhook fails again and again; the command ran once and is remembered.
        var waiting: PendingNotification?
        for _ in 0..<100 {
            waiting = try store.pendingNotifications().first
            if (waiting?.attempts ?? 0) >= 3 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect((waiting?.attempts ?? 0) >= 3)
        #expect(waiting?.commandDone == true && waiting?.webhookDone == false)
        #expect(try String(contentsOf: runs, encoding: .utf8) == "needs_reauth\n")

        let receiver = try await WebhookReceiver.start(port: port)
        #expect(try await receiver.waitFor(1, upTo: 10))
        for _ in 0..<50 where try store.pendingNotificationCount() > 0 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try store.pendingNotificationCount() == 0)
        #expect(try String(contentsOf: runs, encoding: .utf8) == "needs_reauth\n", "the command ran once")
        let delivery = try #require(receiver.deliveries.first)
        #expect(delivery.json["reauthorize_url"] as? String == "https://tokend.example.com/organisations/acme/authorise")
        #expect(delivery.json["kind"] as? String == "user")
        #expect(WebhookSignature.verify(try #require(delivery.signature), body: delivery.body, secret: "s3cret"))
        await dispatcher.stop()
        await receiver.stop()
    }

    @Test("a command that hangs is killed after command_timeout_seconds and tried again; the row stays")
    func hangingCommandIsKilled() async throws {
        let directory = URL(fileURLWithPath: "/tmp/tokend-notify-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("token.key").path, contents: Data(key),
                                           attributes: [.posixPermissions: 0o600])
        let starts = directory.appendingPathComponent("starts")
        let script = directory.appendingPathComponent("hang.sh")
        try "#!/bin/sh\necho started >> '\(starts.path)'\nexec sleep 30\n".write(to: script, atomically: true, encoding: .utf8)
        chmod(script.path, 0o755)
        let configuration = try TokendConfiguration.load(
            contents: Array("public_url = \"https://tokend.example.com\"\nkey_file = \"token.key\"\ndatabase = \"tokend.sqlite\"\n".utf8),
            path: directory.appendingPathComponent("tokend.toml").path, environment: [:])
        var notify = NotifyConfig(command: [script.path])
        notify.commandTimeout = 0.3
        let store = try SQLiteGrantStore(path: configuration.database, key: key)
        let dispatcher = NotificationDispatcher(
            configuration: configuration, notify: notify, store: store, logger: Logger(label: "test"), retryInitial: 0.1, retryMaximum: 0.2)
        dispatcher.start()
        let grant = GrantKey.library("ACTIVE", of: "acme")
        let now = Date()
        try await store.saveAuthorization(NewAuthorization(
            key: grant, identity: AuthorizedIdentity(userID: "ALICE", email: "alice@example.com", name: "Alice", customerID: "1"),
            refreshToken: IssuedToken(token: "rt", issuedAt: now, expiresAt: now.addingTimeInterval(86_400)),
            accessToken: nil, nextRefreshAt: nil, message: "imported"))
        let id = try #require(try store.record(for: grant)).id
        try await store.apply(GrantUpdate(status: .notNrtadmin, message: "gone", nextRefreshAt: nil), toGrant: id, claimedBy: nil)
        var attempts = 0
        for _ in 0..<100 {
            attempts = try store.pendingNotifications().first?.attempts ?? 0
            if attempts >= 2 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(attempts >= 2, "each hanging run counted as a failed attempt")
        #expect(try store.pendingNotificationCount() == 1)
        await dispatcher.stop()
    }
}
