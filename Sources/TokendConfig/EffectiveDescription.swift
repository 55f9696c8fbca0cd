import Foundation
import TokendPolicy

extension TokendConfiguration {
    /// The configuration as the daemon will use it, as TOML-like text for `check-config`: every
    /// key with its effective value (defaults included), resolved paths and URLs, the redirect URL
    /// to register in iManage. Secrets and the key appear only as fingerprints.
    public func effectiveDescription() -> String {
        var lines: [String] = [
            "# Effective configuration of imanage-tokend, read from \(path)",
            "# Defaults are filled in, paths and URLs resolved; secrets are shown only as fingerprints.",
            "",
            Self.line("database", quoted: database),
            Self.line("key_file", quoted: keyFile, comment: key.map { "key \($0.fingerprint)" } ?? "not read"),
            Self.line("public_url", quoted: publicURL.absoluteString),
            "# redirect URL to register in iManage: \(redirectURL.absoluteString)",
            Self.line("listen", quoted: listen.description),
            Self.line("api_socket", quoted: apiSocket),
            metricsListen.map { Self.line("metrics_listen", quoted: $0.description, comment: "GET /metrics") }
                ?? "# metrics_listen not set: no /metrics",
            "metrics_per_grant = \(metricsPerGrant)",
            caFile.map { Self.line("ca_file", quoted: $0, comment: "the default for organisations without their own ca_file") }
                ?? "# ca_file not set: the system's trust roots are used",
            "",
            "[refresh]",
        ]
        lines += Self.refreshLines(refresh)
        lines += ["", "[history]", "keep_days = \(history.keepDays)  # events older are pruned daily; each grant's latest is kept"]
        if let cloudApplication {
            lines += [
                "",
                "[cloud_application]",
                Self.line("client_id", quoted: cloudApplication.clientID),
                Self.line("client_secret_file", quoted: cloudApplication.clientSecretFile,
                          comment: "secret \(cloudApplication.clientSecret.fingerprint)"),
            ]
        } else {
            lines += ["", "# no [cloud_application]"]
        }
        for organisation in organisations {
            lines += [""] + Self.organisationLines(organisation)
        }
        if organisations.isEmpty { lines += ["", "# no [[organisation]] configured"] }
        lines += [""] + Self.notifyLines(notify)
        return lines.joined(separator: "\n") + "\n"
    }

    private static func refreshLines(_ settings: RefreshSettings) -> [String] {
        [
            line("refresh_at_fraction", number: settings.refreshAtFraction),
            line("jitter_fraction", number: settings.jitterFraction),
            line("minimum_interval_seconds", number: settings.minimumInterval),
            line("backoff_initial_seconds", number: settings.backoffInitial),
            line("backoff_max_seconds", number: settings.backoffMaximum),
            line("retry_after_max_seconds", number: settings.retryAfterMaximum),
            line("refresh_token_lifetime_days", number: settings.refreshTokenLifetime / 86_400),
            line("refresh_token_warning_days", number: settings.refreshTokenWarning / 86_400),
            line("default_access_token_lifetime_seconds", number: settings.defaultAccessTokenLifetime),
            line("connect_timeout_seconds", number: settings.connectTimeout),
            line("request_timeout_seconds", number: settings.requestTimeout),
            line("nrtadmin_check_hours", number: settings.nrtadminCheckInterval / 3_600),
            line("startup_refreshes_per_second", number: settings.startupRefreshesPerSecond),
            line("max_concurrent_refreshes", number: Double(settings.maxConcurrentRefreshes)),
            line("outage_grants", number: Double(settings.outageGrants)),
            line("outage_window_seconds", number: settings.outageWindow),
            line("outage_probe_max_seconds", number: settings.outageProbeMaximum),
            line("recovery_refreshes_per_second", number: settings.recoveryRefreshesPerSecond),
        ]
    }

    private static func organisationLines(_ organisation: OrganisationConfig) -> [String] {
        let source = organisation.useDefaultConfiguration ? " (from [cloud_application])" : ""
        return [
            "[[organisation]]",
            line("name", quoted: organisation.name),
            "enabled = \(organisation.enabled)",
            "use_default_configuration = \(organisation.useDefaultConfiguration)",
            line("region", quoted: organisation.region.rawValue),
            line("authorization_url", quoted: organisation.authorizationBase.absoluteString),
            line("token_url", quoted: organisation.tokenBase.absoluteString),
            line("endpoint_url", quoted: organisation.endpointBase.absoluteString),
            line("client_id", quoted: organisation.clientID, comment: source.isEmpty ? nil : "from [cloud_application]"),
            line("client_secret_file", quoted: organisation.clientSecretFile,
                 comment: "secret \(organisation.clientSecret.fingerprint)\(source)"),
            "pkce = \(organisation.pkce)",
            organisation.customerID.map { line("customer_id", quoted: $0) }
                ?? "# customer_id not set: the first authorisation or import pins the customer it reports",
            organisation.caFile.map { line("ca_file", quoted: $0, comment: "trusted for this organisation's hosts only") }
                ?? "# ca_file not set: the top-level ca_file (if any) and the system's trust roots",
            "# authorize: \(organisation.authorizeURL.absoluteString)",
            "# token:     \(organisation.tokenURL.absoluteString)",
            "# discovery: \(organisation.discoveryURL.absoluteString)",
        ]
    }

    private static func line(_ key: String, quoted value: String, comment: String? = nil) -> String {
        "\(key) = \(tomlQuoted(value))" + (comment.map { "  # \($0)" } ?? "")
    }

    private static func line(_ key: String, number: Double) -> String {
        let text = number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        return "\(key) = \(text)"
    }

    /// `value` as a TOML basic string.
    static func tomlQuoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension TokendConfiguration {
    /// `[notify]` as it will be used; the webhook's secret only as its fingerprint.
    static func notifyLines(_ notify: NotifyConfig?) -> [String] {
        guard let notify else { return ["# no [notify]: nobody is told when a grant needs a person"] }
        var lines = ["[notify]"]
        if let command = notify.command {
            lines.append("command = [" + command.map(tomlQuoted).joined(separator: ", ") + "]")
        } else {
            lines.append("# no command")
        }
        if let url = notify.webhookURL {
            lines.append("webhook_url = \(tomlQuoted(url.absoluteString))")
            if let file = notify.webhookSecretFile {
                let comment = notify.webhookSecret.map { $0.reveal().isEmpty ? "not read" : "secret \($0.fingerprint)" } ?? "not read"
                lines.append("webhook_secret_file = \(tomlQuoted(file))  # \(comment)")
            }
            lines.append(line("webhook_timeout_seconds", number: notify.webhookTimeout))
        } else {
            lines.append("# no webhook_url")
        }
        if notify.command != nil { lines.append(line("command_timeout_seconds", number: notify.commandTimeout)) }
        lines.append(line("repeat_after_minutes", number: notify.repeatAfter / 60))
        return lines
    }
}
