import Foundation
import Testing
import TokendNotify

/// `[notify]` with the real binaries: the emulator's faults turn a grant `needs_reauth`, a
/// re-import recovers it, and a webhook receiver or a command is told, once per change.
@Suite("Notifications from the running daemon", .serialized)
struct NotificationDaemonTests {
    static let webhookSecret = "whsec-test-0123456789"

    /// Adds `[notify]` to the harness's configuration (and the webhook's secret file).
    func configureNotify(_ harness: DaemonHarness, _ lines: String) throws {
        _ = FileManager.default.createFile(
            atPath: harness.directory.appendingPathComponent("hook-secret").path,
            contents: Data((Self.webhookSecret + "\n").utf8), attributes: [.posixPermissions: 0o600])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: harness.config))
        handle.seekToEndOfFile()
        handle.write(Data("\n[notify]\n\(lines)\n".utf8))
        try handle.close()
    }

    /// Every secret the emulator issued, and the configuration's own.
    func secrets(_ harness: DaemonHarness) async throws -> [String] {
        let text = try await harness.curl([harness.base + "/_emulator/secrets"])
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
        let issued = object.values.compactMap { $0 as? [String] }.flatMap { $0 }
        #expect(!issued.isEmpty, "the emulator recorded no secret: \(text)")
        return issued + ["demo-secret", Self.webhookSecret]
    }

    func pending(_ harness: DaemonHarness) async throws -> Int {
        try await harness.statusJSON()["notifications_pending"] as? Int ?? -1
    }

    @Test("a webhook gets one signed notification per change: needs_reauth, then the recovery by re-import")
    func webhookPerTransition() async throws {
        let receiver = try await WebhookReceiver.start()
        let harness = try await DaemonHarness(accessTokenLifetime: 4, emulatorArguments: ["--record-secrets"])
        try configureNotify(harness, """
            webhook_url = "\(receiver.url)"
            webhook_secret_file = "hook-secret"
            webhook_timeout_seconds = 2
            """)
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon()
        try await harness.fault(#"{"endpoint":"token","kind":"invalid_grant","count":1}"#)
        #expect(try await harness.waitForStatus("needs_reauth", upTo: 15))
        #expect(try await receiver.waitFor(1))
        try await harness.importGrant(["--library", "ACTIVE"])
        #expect(try await receiver.waitFor(2))
        try await Task.sleep(for: .milliseconds(500))
        let deliveries = receiver.deliveries
        // At least once: a delivery whose answer came after webhook_timeout_seconds (a loaded
        // machine) is sent again under the same notification_id, so the receiver can tell.
        let ids = deliveries.compactMap { $0.json["notification_id"] as? Int }
        let distinct = ids.reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
        #expect(ids.count == deliveries.count, "every delivery names its notification")
        #expect(distinct.count == 2, "one notification per change, no more: \(deliveries.map { ($0.json["notification_id"] ?? "-", $0.json["event"] ?? "-") })")
        let problem = try #require(deliveries.first).json
        #expect(problem["event"] as? String == "problem")
        #expect(problem["status"] as? String == "needs_reauth")
        #expect(problem["previous_status"] as? String == "authorized")
        #expect(problem["organisation"] as? String == "demo")
        #expect(problem["kind"] as? String == "library" && problem["id"] as? String == "ACTIVE")
        #expect(problem["reauthorize_url"] as? String == "http://127.0.0.1:8080/organisations/demo/tracker")
        #expect((problem["authorized_by_email"] as? String)?.contains("@") == true)
        #expect(Set(problem.keys) == [
            "notification_id", "event", "organisation", "kind", "id", "status", "previous_status", "reason",
            "authorized_by_email", "reauthorize_url", "at",
        ])
        let recovery = try #require(deliveries.last).json
        #expect(recovery["event"] as? String == "recovery")
        #expect(recovery["status"] as? String == "authorized" && recovery["previous_status"] as? String == "needs_reauth")
        for delivery in deliveries {
            let signature = try #require(delivery.signature)
            #expect(WebhookSignature.verify(signature, body: delivery.body, secret: Self.webhookSecret))
            #expect(!WebhookSignature.verify(signature, body: delivery.body + Data(" ".utf8), secret: Self.webhookSecret))
            let text = String(decoding: delivery.body, as: UTF8.self)
            for secret in try await secrets(harness) { #expect(!text.contains(secret), "a secret in the webhook's body") }
        }
        #expect(try await pending(harness) == 0)
        let (_, log) = try await harness.stopDaemon()
        for secret in try await secrets(harness) { #expect(!log.contains(secret), "a secret in the journal") }
        await receiver.stop()
    }

    @Test("a receiver that is down gets the notification later; the journal says so once, and when it works again")
    func receiverDownThenUp() async throws {
        // A port that was free a moment ago and now refuses connections.
        let probe = try await WebhookReceiver.start()
        let port = probe.port
        await probe.stop()
        let harness = try await DaemonHarness(accessTokenLifetime: 4)
        try configureNotify(harness, """
            webhook_url = "http://127.0.0.1:\(port)/hook"
            webhook_secret_file = "hook-secret"
            webhook_timeout_seconds = 0.5
            """)
        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon()
        try await harness.fault(#"{"endpoint":"token","kind":"invalid_grant","count":1}"#)
        #expect(try await harness.waitForStatus("needs_reauth", upTo: 15))
        // Long enough for two failed attempts (0.5 s each, 1 s apart), so "once per streak" means something.
        try await Task.sleep(for: .seconds(3))
        #expect(try await pending(harness) == 1, "kept in the database while the receiver is down")
        let status = try await harness.tokend(["status"])
        #expect(status.stdout.contains("1 notification is not yet delivered"), "\(status.stdout)")

        let receiver = try await WebhookReceiver.start(port: port)
        #expect(try await receiver.waitFor(1, upTo: 30))
        #expect(receiver.deliveries.first?.json["status"] as? String == "needs_reauth")
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await pending(harness) == 0)
        let (_, log) = try await harness.stopDaemon()
        let failures = log.components(separatedBy: "notifications cannot be delivered").count - 1
        #expect(failures == 1, "said once per failure streak: \(log)")
        #expect(log.contains("notifications are delivered again"))
        #expect(!log.contains(Self.webhookSecret))
        await receiver.stop()
    }

    @Test("kill -9 between the status change and its delivery loses nothing: the command runs after the restart, with only TOKEND_* variables")
    func commandSurvivesKill() async throws {
        let harness = try await DaemonHarness(accessTokenLifetime: 4, emulatorArguments: ["--record-secrets"])
        let outbox = harness.directory.appendingPathComponent("told")
        let down = harness.directory.appendingPathComponent("down")
        try FileManager.default.createDirectory(at: outbox, withIntermediateDirectories: true)
        let script = harness.directory.appendingPathComponent("notify.sh")
        try """
            #!/bin/sh
            [ -e '\(down.path)' ] && exit 1
            env > '\(outbox.path)/'"$TOKEND_NOTIFICATION_ID-$$.env"
            """.write(to: script, atomically: true, encoding: .utf8)
        chmod(script.path, 0o755)
        _ = FileManager.default.createFile(atPath: down.path, contents: Data())
        try configureNotify(harness, #"command = ["\#(script.path)"]"#)

        try await harness.importGrant(["--library", "ACTIVE"])
        try await harness.startDaemon()
        try await harness.fault(#"{"endpoint":"token","kind":"invalid_grant","count":1}"#)
        #expect(try await harness.waitForStatus("needs_reauth", upTo: 15))
        #expect(try await pending(harness) == 1)
        let first = try #require(harness.daemon)
        kill(first.processIdentifier, SIGKILL)
        let (_, firstLog) = try await harness.stopDaemon()
        #expect(first.terminationReason == .uncaughtSignal)
        #expect(firstLog.contains("notifications cannot be delivered"))

        try FileManager.default.removeItem(at: down)
        try await harness.startDaemon()
        var files: [String] = []
        for _ in 0..<100 {
            files = try FileManager.default.contentsOfDirectory(atPath: outbox.path)
            if !files.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(500))
        files = try FileManager.default.contentsOfDirectory(atPath: outbox.path)
        #expect(files.count == 1, "delivered once after the restart: \(files)")
        let text = try String(contentsOf: outbox.appendingPathComponent(try #require(files.first)), encoding: .utf8)
        var environment: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 { environment[String(parts[0])] = String(parts[1]) }
        }
        #expect(environment["TOKEND_ORGANISATION"] == "demo")
        #expect(environment["TOKEND_KIND"] == "library" && environment["TOKEND_ID"] == "ACTIVE")
        #expect(environment["TOKEND_STATUS"] == "needs_reauth" && environment["TOKEND_PREVIOUS_STATUS"] == "authorized")
        #expect(environment["TOKEND_REAUTHORIZE_URL"] == "http://127.0.0.1:8080/organisations/demo/tracker")
        #expect(environment["TOKEND_REASON"]?.isEmpty == false)
        #expect(environment["TOKEND_AUTHORIZED_BY_EMAIL"]?.contains("@") == true)
        // Nothing of the daemon's own environment (the shell adds only PWD, SHLVL and `_`).
        let foreign = environment.keys.filter { !$0.hasPrefix("TOKEND_") && !["PATH", "PWD", "SHLVL", "_", "OLDPWD"].contains($0) }
        #expect(foreign.isEmpty, "variables of the daemon's environment: \(foreign.sorted())")
        #expect(environment["HOME"] == nil && environment["CREDENTIALS_DIRECTORY"] == nil)
        for secret in try await secrets(harness) { #expect(!text.contains(secret), "a secret in the command's environment") }
        #expect(try await pending(harness) == 0)
        try await harness.stopDaemon()
    }
}
