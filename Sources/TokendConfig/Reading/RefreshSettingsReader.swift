import TokendPolicy

/// Reads the `[refresh]` table onto `RefreshSettings`: each key's type and range checked,
/// days and hours turned into seconds, defaults where a key is absent.
struct RefreshSettingsReader {
    /// One number of the table: its range, its unit, and where it goes.
    private struct NumberRule {
        var key: String
        /// What one unit of the key is in seconds (86 400 for days), or 1 for plain numbers.
        var unit: Double
        var minimum: Double
        /// `false`: the minimum itself is not allowed ("greater than 0").
        var minimumIncluded: Bool
        var maximum: Double
        var unitName: String
        var wholeNumber = false
        var apply: (inout RefreshSettings, Double) -> Void

        var rangeDescription: String {
            let low = minimumIncluded ? "from \(Self.format(minimum))" : "greater than \(Self.format(minimum))"
            let kind = wholeNumber ? "a whole number" : "a number"
            let unitText = unitName.isEmpty ? "" : " (\(unitName))"
            return "\(kind)\(unitText) \(low)\(minimumIncluded ? " to" : " and at most") \(Self.format(maximum))"
        }

        static func format(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        }
    }

    static let knownKeys = rules.map(\.key)

    private static var rules: [NumberRule] {
        let day = 86_400.0, hour = 3_600.0
        return [
            NumberRule(key: "refresh_at_fraction", unit: 1, minimum: 0.1, minimumIncluded: true, maximum: 0.9, unitName: "") { $0.refreshAtFraction = $1 },
            NumberRule(key: "jitter_fraction", unit: 1, minimum: 0, minimumIncluded: true, maximum: 0.5, unitName: "") { $0.jitterFraction = $1 },
            NumberRule(key: "minimum_interval_seconds", unit: 1, minimum: 0, minimumIncluded: false, maximum: hour, unitName: "seconds") { $0.minimumInterval = $1 },
            NumberRule(key: "backoff_initial_seconds", unit: 1, minimum: 0, minimumIncluded: false, maximum: day, unitName: "seconds") { $0.backoffInitial = $1 },
            NumberRule(key: "backoff_max_seconds", unit: 1, minimum: 0, minimumIncluded: false, maximum: day, unitName: "seconds") { $0.backoffMaximum = $1 },
            NumberRule(key: "retry_after_max_seconds", unit: 1, minimum: 0, minimumIncluded: false, maximum: 7 * day, unitName: "seconds") { $0.retryAfterMaximum = $1 },
            NumberRule(key: "refresh_token_lifetime_days", unit: day, minimum: 0, minimumIncluded: false, maximum: 3650, unitName: "days") { $0.refreshTokenLifetime = $1 },
            NumberRule(key: "refresh_token_warning_days", unit: day, minimum: 0, minimumIncluded: true, maximum: 3650, unitName: "days") { $0.refreshTokenWarning = $1 },
            NumberRule(key: "default_access_token_lifetime_seconds", unit: 1, minimum: 0, minimumIncluded: false, maximum: 365 * day, unitName: "seconds") { $0.defaultAccessTokenLifetime = $1 },
            NumberRule(key: "connect_timeout_seconds", unit: 1, minimum: 0, minimumIncluded: false, maximum: 600, unitName: "seconds") { $0.connectTimeout = $1 },
            NumberRule(key: "request_timeout_seconds", unit: 1, minimum: 0, minimumIncluded: false, maximum: hour, unitName: "seconds") { $0.requestTimeout = $1 },
            NumberRule(key: "nrtadmin_check_hours", unit: hour, minimum: 0, minimumIncluded: false, maximum: 8_760, unitName: "hours") { $0.nrtadminCheckInterval = $1 },
            NumberRule(key: "startup_refreshes_per_second", unit: 1, minimum: 0, minimumIncluded: false, maximum: 100_000, unitName: "") { $0.startupRefreshesPerSecond = $1 },
            NumberRule(key: "max_concurrent_refreshes", unit: 1, minimum: 1, minimumIncluded: true, maximum: 10_000, unitName: "", wholeNumber: true) { $0.maxConcurrentRefreshes = Int($1) },
            NumberRule(key: "outage_grants", unit: 1, minimum: 2, minimumIncluded: true, maximum: 1_000_000, unitName: "", wholeNumber: true) { $0.outageGrants = Int($1) },
            NumberRule(key: "outage_window_seconds", unit: 1, minimum: 0, minimumIncluded: false, maximum: day, unitName: "seconds") { $0.outageWindow = $1 },
            NumberRule(key: "outage_probe_max_seconds", unit: 1, minimum: 0, minimumIncluded: false, maximum: day, unitName: "seconds") { $0.outageProbeMaximum = $1 },
            NumberRule(key: "recovery_refreshes_per_second", unit: 1, minimum: 0, minimumIncluded: false, maximum: 100_000, unitName: "") { $0.recoveryRefreshesPerSecond = $1 },
        ]
    }

    let table: ConfigTable

    /// The settings; values with problems keep their defaults (the problems stop the load anyway).
    func read() -> RefreshSettings {
        table.reportUnknownKeys(known: Self.knownKeys)
        var settings = RefreshSettings()
        for rule in Self.rules {
            let number: Located<Double>?
            if rule.wholeNumber {
                number = table.integer(rule.key, expected: rule.rangeDescription).map { Located(value: Double($0.value), line: $0.line) }
            } else {
                number = table.number(rule.key, expected: rule.rangeDescription)
            }
            guard let number else { continue }
            let value = number.value
            let inRange = (rule.minimumIncluded ? value >= rule.minimum : value > rule.minimum) && value <= rule.maximum
            guard inRange else {
                table.problem(rule.key, "expected \(rule.rangeDescription), found \(NumberRule.format(value))")
                continue
            }
            rule.apply(&settings, value * rule.unit)
        }
        checkOrder(of: settings)
        return settings
    }

    /// Settings that must be in order with each other.
    private func checkOrder(of settings: RefreshSettings) {
        if settings.backoffMaximum < settings.backoffInitial {
            let key = table.contains("backoff_max_seconds") ? "backoff_max_seconds" : "backoff_initial_seconds"
            table.problem(key,
                "backoff_max_seconds (\(NumberRule.format(settings.backoffMaximum))) must be at least backoff_initial_seconds (\(NumberRule.format(settings.backoffInitial)))")
        }
        if settings.refreshTokenWarning >= settings.refreshTokenLifetime {
            let key = table.contains("refresh_token_warning_days") ? "refresh_token_warning_days" : "refresh_token_lifetime_days"
            table.problem(key,
                "refresh_token_warning_days (\(NumberRule.format(settings.refreshTokenWarning / 86_400))) must be less than refresh_token_lifetime_days (\(NumberRule.format(settings.refreshTokenLifetime / 86_400)))")
        }
    }
}
