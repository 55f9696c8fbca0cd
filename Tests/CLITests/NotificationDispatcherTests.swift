import Foundation
import Logging
import Testing
import TokendConfig
import TokendNotify
import TokendPolicy
import TokendStore
import TokendTestSupport

/// The delivery service in process, with a real command and a real webhook receiver: what it
/// repeats and what it does not when one of the two fails.
@Suite("Notification dispatcher in process")
struct NotificationDispatcherTests {
    @Test("with a command and a webhook, a webhook that is down is retried and the command is not run again")
    func partialDeliveryIsNotRepeated() async throws {
        let setup = try DispatcherSetup(script: "notify.sh") { "#!/bin/sh\necho \"$TOKEND_STATUS\" >> '\($0.path("runs"))'\n" }
        defer { setup.files.remove() }
        let runs = setup.files.url.appendingPathComponent("runs")
        let script = setup.script

        let probe = try await WebhookReceiver.start()
        let port = probe.port
        await probe.stop()
        var notify = NotifyConfig(
            command: [script.path], webhookURL: URL(string: "http://127.0.0.1:\(port)/hook"), webhookSecret: Secret("s3cret"))
        notify.webhookTimeout = 0.5
        let (store, dispatcher) = try setup.startDispatcher(notify, retryMaximum: 0.3)

        try await setup.change(
            .user("BOB", of: "acme"), by: AuthorizedIdentity(userID: "BOB", email: "bob@example.com", name: "Bob", customerID: "1"),
            refreshToken: "rt-never-shown", to: .needsReauth, message: "refused", in: store)

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
        let setup = try DispatcherSetup(script: "hang.sh") { "#!/bin/sh\necho started >> '\($0.path("starts"))'\nexec sleep 30\n" }
        defer { setup.files.remove() }
        let script = setup.script
        var notify = NotifyConfig(command: [script.path])
        notify.commandTimeout = 0.3
        let (store, dispatcher) = try setup.startDispatcher(notify, retryMaximum: 0.2)
        try await setup.change(
            .library("ACTIVE", of: "acme"), by: AuthorizedIdentity(userID: "ALICE", email: "alice@example.com", name: "Alice", customerID: "1"),
            refreshToken: "rt", to: .notNrtadmin, message: "gone", in: store)
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

/// A directory with a store key, a configuration without organisations, and an executable `script`
/// whose text is made from the directory (to name files in it).
private struct DispatcherSetup {
    let files: DaemonDirectory
    let key: [UInt8]
    let configuration: TokendConfiguration
    let script: URL

    init(script name: String, text: (DaemonDirectory) -> String) throws {
        files = try DaemonDirectory("tokend-notify", forSockets: true)
        key = files.writeKey()
        script = files.url.appendingPathComponent(name)
        try text(files).write(to: script, atomically: true, encoding: .utf8)
        chmod(script.path, 0o755)
        configuration = try TokendConfiguration.load(
            contents: Array(TestConfiguration(publicURL: "https://tokend.example.com").text.utf8), path: files.configPath, environment: [:])
    }

    /// The store and a started dispatcher for `notify`, retrying from 0.1 s up to `retryMaximum`.
    func startDispatcher(_ notify: NotifyConfig, retryMaximum: TimeInterval) throws -> (SQLiteGrantStore, NotificationDispatcher) {
        let store = try SQLiteGrantStore(path: configuration.database, key: key)
        let dispatcher = NotificationDispatcher(
            configuration: configuration, notify: notify, store: store, logger: Logger(label: "test"), retryInitial: 0.1,
            retryMaximum: retryMaximum)
        dispatcher.start()
        return (store, dispatcher)
    }

    /// Seeds an imported grant of `key` and moves it to `status`: a change that queues a notification.
    func change(
        _ key: GrantKey, by identity: AuthorizedIdentity, refreshToken: String, to status: GrantStatus, message: String,
        in store: SQLiteGrantStore
    ) async throws {
        let id = try await store.seed(.seeded(
            key, by: identity, refreshToken: refreshToken, refreshLife: 86_400, nextRefreshAt: nil, message: "imported"))
        try await store.apply(GrantUpdate(status: status, message: message, nextRefreshAt: nil), toGrant: id, claimedBy: nil)
    }
}
