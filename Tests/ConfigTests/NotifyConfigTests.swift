import Foundation
import Testing
import TokendConfig

/// `[notify]`: a command and/or a signed webhook, checked like the rest of the configuration.
@Suite struct NotifyConfigTests {
    static let base = ConfigFixture.minimal + """
        [[organisation]]
        name = "acme"

        """

    @Test func withoutTheTableNobodyIsTold() throws {
        let config = try ConfigFixture().load(Self.base)
        #expect(config.notify == nil)
        #expect(config.effectiveDescription().contains("# no [notify]"))
    }

    @Test func commandAndWebhookWithDefaults() throws {
        let fixture = try ConfigFixture()
        let script = try fixture.write("notify.sh", "#!/bin/sh\nexit 0\n", mode: 0o755)
        try fixture.write("hook-secret", "hook-secret-value-42\n")
        let config = try fixture.load(Self.base + """
            [notify]
            command = ["\(script)", "admins@example.com"]
            webhook_url = "https://alerts.example.com/tokend/"
            webhook_secret_file = "hook-secret"
            """)
        let notify = try #require(config.notify)
        #expect(notify.command == [script, "admins@example.com"])
        #expect(notify.webhookURL?.absoluteString == "https://alerts.example.com/tokend/")
        #expect(notify.webhookSecret?.reveal() == "hook-secret-value-42")
        #expect(notify.webhookSecretFile == fixture.path("hook-secret"))
        #expect(notify.webhookTimeout == 10)
        #expect(notify.repeatAfter == 3600)
        let description = config.effectiveDescription()
        #expect(description.contains("[notify]"))
        #expect(description.contains("webhook_url = \"https://alerts.example.com/tokend/\""))
        #expect(description.contains("repeat_after_minutes = 60"))
        #expect(description.contains("webhook_timeout_seconds = 10"))
        #expect(description.contains(try #require(notify.webhookSecret).fingerprint))
        #expect(!description.contains("hook-secret-value-42"))
    }

    @Test func aCommandAsOneStringAndItsSettings() throws {
        let fixture = try ConfigFixture()
        let script = try fixture.write("notify.sh", "#!/bin/sh\nexit 0\n", mode: 0o755)
        let config = try fixture.load(Self.base + """
            [notify]
            command = "\(script)"
            repeat_after_minutes = 5
            command_timeout_seconds = 3
            """)
        #expect(config.notify?.command == [script])
        #expect(config.notify?.repeatAfter == 300)
        #expect(config.notify?.commandTimeout == 3)
        #expect(config.notify?.webhookURL == nil)
    }

    @Test func theReauthorizePageOfALibraryAndOfAUser() throws {
        let config = try ConfigFixture().load(Self.base)
        #expect(config.reauthorizeURL(organisation: "acme", kind: "library")?.absoluteString
                == "https://tokend.example.com/organisations/acme/tracker")
        #expect(config.reauthorizeURL(organisation: "acme", kind: "user")?.absoluteString
                == "https://tokend.example.com/organisations/acme/authorise")
        #expect(config.reauthorizeURL(organisation: "acme", kind: "organisation") == nil)
    }

    @Test func problemsAreNamed() throws {
        let fixture = try ConfigFixture()
        try fixture.write("hook-secret", "s\n")
        try fixture.write("open-secret", "s\n", mode: 0o644)
        let notExecutable = try fixture.write("plain.txt", "not a program\n", mode: 0o644)
        let cases: [(String, String, String)] = [
            ("", "[notify].command", "needs a command or a webhook_url"),
            (#"command = "notify.sh""#, "[notify].command", "absolute path"),
            ("command = 3", "[notify].command", "expected an absolute path"),
            ("command = \"\(notExecutable)\"", "[notify].command", "not an executable"),
            ("webhook_url = \"http://alerts.example.com/x\"\nwebhook_secret_file = \"hook-secret\"", "[notify].webhook_url", "https is required"),
            ("webhook_url = \"https://user:pw@alerts.example.com/x\"\nwebhook_secret_file = \"hook-secret\"", "[notify].webhook_url", "user name or password"),
            (#"webhook_url = "https://alerts.example.com/x""#, "[notify].webhook_secret_file", "required with webhook_url"),
            ("webhook_url = \"https://a.example.com\"\nwebhook_secret_file = \"open-secret\"", "[notify].webhook_secret_file", "chmod 600"),
            ("webhook_url = \"https://a.example.com\"\nwebhook_secret_file = \"hook-secret\"\nwebhook_timeout_seconds = 0",
             "[notify].webhook_timeout_seconds", "greater than 0"),
            ("webhook_url = \"https://a.example.com\"\nwebhook_secret_file = \"hook-secret\"\nrepeat_after_minutes = -1",
             "[notify].repeat_after_minutes", "from 0"),
            ("webhook_url = \"https://a.example.com\"\nwebhook_secret_file = \"hook-secret\"\nwebhook_secret = \"x\"",
             "[notify].webhook_secret", "unknown key"),
        ]
        for (lines, key, words) in cases {
            let problem = try fixture.problem(Self.base + "[notify]\n" + lines + "\n")
            #expect(problem.key == key, "\(lines): \(problem)")
            #expect(problem.message.contains(words), "\(lines): \(problem)")
        }
    }

    @Test func loopbackWebhookOverHTTPAndSecretsSkipped() throws {
        let fixture = try ConfigFixture()
        try fixture.write("tokend.toml", Self.base + """
            [notify]
            webhook_url = "http://127.0.0.1:9000/hook"
            webhook_secret_file = "absent-secret"
            """, mode: 0o644)
        // `status` and the like read no secret: a webhook secret that is not there is no problem for them.
        let config = try TokendConfiguration.load(path: fixture.configPath, environment: [:], secrets: .skip)
        #expect(config.notify?.webhookURL?.absoluteString == "http://127.0.0.1:9000/hook")
        #expect(config.notify?.webhookSecret?.reveal() == "")
    }
}
