import Foundation

/// Reads `[notify]`: a command and/or a signed webhook, their timeouts, and the repeat interval.
struct NotifyReader {
    static let knownKeys = [
        "command", "webhook_url", "webhook_secret_file", "webhook_timeout_seconds", "command_timeout_seconds",
        "repeat_after_minutes",
    ]
    static let commandExpected = "an absolute path in quotes, or an array of them: [\"/usr/local/bin/notify\", \"--flag\"]"

    let table: ConfigTable
    let files: ConfigFiles

    func read() -> NotifyConfig? {
        table.reportUnknownKeys(known: Self.knownKeys)
        var notify = NotifyConfig(command: readCommand(), webhookURL: readWebhookURL())
        if notify.command == nil, notify.webhookURL == nil, !table.contains("command"), !table.contains("webhook_url") {
            table.problem("command", "[notify] needs a command or a webhook_url (or both); remove [notify] to send no notifications")
        }
        if table.contains("webhook_url") || table.contains("webhook_secret_file") {
            if let secret = readSecret() { (notify.webhookSecretFile, notify.webhookSecret) = (secret.path, secret.secret) }
        }
        notify.webhookTimeout = seconds("webhook_timeout_seconds", unit: 1, maximum: 600) ?? NotifyConfig.defaultWebhookTimeout
        notify.commandTimeout = seconds("command_timeout_seconds", unit: 1, maximum: 3600) ?? NotifyConfig.defaultCommandTimeout
        notify.repeatAfter = seconds("repeat_after_minutes", unit: 60, maximum: 7 * 24 * 60, allowsZero: true) ?? NotifyConfig.defaultRepeatAfter
        return notify
    }

    private func readCommand() -> [String]? {
        guard let entry = table.table["command"] else { return nil }
        var words: [String] = []
        switch entry.value {
        case .string(let path): words = [path]
        case .array(let values):
            for value in values {
                guard case .string(let word) = value else {
                    table.problem("command", "expected \(Self.commandExpected); an element is \(value.kindDescription)")
                    return nil
                }
                words.append(word)
            }
        default:
            table.problem("command", "expected \(Self.commandExpected), found \(entry.value.kindDescription)")
            return nil
        }
        guard let program = words.first, program.hasPrefix("/") else {
            table.problem("command", "the program must be an absolute path (it is run without a shell or $PATH), like \"/etc/imanage-tokend/notify-sendmail\"")
            return nil
        }
        if words.contains(where: { $0.contains("\0") }) {
            table.problem("command", "contains a NUL character")
            return nil
        }
        if files.readsSecrets, access(program, X_OK) != 0 {
            table.problem("command", "\(program) is not an executable file (\(String(cString: strerror(errno)))): create it and chmod 755 it")
            return nil
        }
        return words
    }

    private func readWebhookURL() -> URL? {
        guard let text = table.string("webhook_url", expected: "an https URL in quotes, like \"https://alerts.example.com/tokend\"") else { return nil }
        do {
            let url = try BaseURLRule.check(text.value)
            // The rule drops trailing slashes of a base URL; a receiver's path is kept as written.
            return text.value.trimmingCharacters(in: .whitespaces).hasSuffix("/") ? URL(string: url.absoluteString + "/") : url
        } catch {
            table.problem("webhook_url", error.message)
            return nil
        }
    }

    private func readSecret() -> (path: String, secret: Secret)? {
        let expected = "the name of a file that holds the webhook's signing secret (chmod 600), like \"webhook-secret\""
        guard table.contains("webhook_secret_file") else {
            table.problem("webhook_secret_file", "required with webhook_url (every POST is signed with it); expected \(expected)")
            return nil
        }
        guard table.contains("webhook_url") else {
            table.problem("webhook_secret_file", "is set without webhook_url: add webhook_url or remove it")
            return nil
        }
        guard let name = table.string("webhook_secret_file", expected: expected) else { return nil }
        do {
            return try files.readSecretText(named: name.value)
        } catch {
            table.problem("webhook_secret_file", error.message)
            return nil
        }
    }

    /// A number of `key` in its unit, as seconds; `nil` when absent or wrong (a problem then).
    private func seconds(_ key: String, unit: Double, maximum: Double, allowsZero: Bool = false) -> TimeInterval? {
        let range = "a number \(allowsZero ? "from 0" : "greater than 0") to \(Int(maximum))"
        guard let number = table.number(key, expected: range) else { return nil }
        guard number.value <= maximum, allowsZero ? number.value >= 0 : number.value > 0 else {
            table.problem(key, "expected \(range), found \(number.value)")
            return nil
        }
        return number.value * unit
    }
}
