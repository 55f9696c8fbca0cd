import Foundation
import Testing
import TokendConfig
import TokendPolicy

/// The `[refresh]` table: types, ranges, units, and its mapping onto `RefreshSettings`.
@Suite struct RefreshSettingsConfigTests {
    private func config(_ refresh: String) -> String {
        ConfigFixture.minimal + "[refresh]\n" + refresh + "\n"
    }

    @Test func everyKeyMapsOntoRefreshSettingsInSeconds() throws {
        let fixture = try ConfigFixture()
        let settings = try fixture.load(config("""
            refresh_at_fraction = 0.6
            jitter_fraction = 0
            minimum_interval_seconds = 0.05
            backoff_initial_seconds = 1
            backoff_max_seconds = 2.5
            retry_after_max_seconds = 60
            refresh_token_lifetime_days = 0.5
            refresh_token_warning_days = 0.25
            default_access_token_lifetime_seconds = 120
            connect_timeout_seconds = 3
            request_timeout_seconds = 4
            nrtadmin_check_hours = 0.5
            startup_refreshes_per_second = 2.5
            max_concurrent_refreshes = 7
            outage_grants = 5
            outage_window_seconds = 20
            outage_probe_max_seconds = 2.5
            recovery_refreshes_per_second = 300
            """)).refresh
        #expect(settings.refreshAtFraction == 0.6)
        #expect(settings.jitterFraction == 0)
        #expect(settings.minimumInterval == 0.05)
        #expect(settings.backoffInitial == 1)
        #expect(settings.backoffMaximum == 2.5)
        #expect(settings.retryAfterMaximum == 60)
        #expect(settings.refreshTokenLifetime == 43_200)
        #expect(settings.refreshTokenWarning == 21_600)
        #expect(settings.defaultAccessTokenLifetime == 120)
        #expect(settings.connectTimeout == 3)
        #expect(settings.requestTimeout == 4)
        #expect(settings.nrtadminCheckInterval == 1_800)
        #expect(settings.startupRefreshesPerSecond == 2.5)
        #expect(settings.maxConcurrentRefreshes == 7)
        #expect(settings.outageGrants == 5)
        #expect(settings.outageWindow == 20)
        #expect(settings.outageProbeMaximum == 2.5)
        #expect(settings.recoveryRefreshesPerSecond == 300)
    }

    @Test func anEmptyRefreshTableMeansTheDefaults() throws {
        let fixture = try ConfigFixture()
        #expect(try fixture.load(config("")).refresh == RefreshSettings())
    }

    @Test(arguments: [
        ("refresh_at_fraction = 0.95", "expected a number from 0.1 to 0.9, found 0.95"),
        ("refresh_at_fraction = 0", "expected a number from 0.1 to 0.9, found 0"),
        ("jitter_fraction = 0.6", "expected a number from 0 to 0.5, found 0.6"),
        ("minimum_interval_seconds = 0", "expected a number (seconds) greater than 0 and at most 3600, found 0"),
        ("refresh_token_lifetime_days = -1", "(days) greater than 0"),
        ("max_concurrent_refreshes = 0", "expected a whole number from 1 to 10000, found 0"),
        ("max_concurrent_refreshes = 10001", "expected a whole number from 1 to 10000, found 10001"),
        ("max_concurrent_refreshes = 2.5", "expected a whole number from 1 to 10000, found a floating-point number"),
        ("outage_grants = 1", "expected a whole number from 2 to 1000000, found 1"),
        ("recovery_refreshes_per_second = 0", "expected a number greater than 0 and at most 100000, found 0"),
        ("jitter_fraction = \"0.1\"", "expected a number from 0 to 0.5, found a string"),
        ("connect_timeout_seconds = nan", "found nan"),
        ("request_timeout_seconds = true", "found a boolean"),
    ])
    func wrongTypeOrOutOfRangeNamesTheRange(line: String, message: String) throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem(config(line))
        let key = String(line.prefix { $0 != " " })
        #expect(problem.key == "[refresh].\(key)")
        #expect(problem.line == 7)
        #expect(problem.message.contains(message), "\(problem)")
    }

    @Test func backoffMaximumMustNotBeBelowTheInitialDelay() throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem(config("backoff_initial_seconds = 60\nbackoff_max_seconds = 30"))
        #expect(problem.key == "[refresh].backoff_max_seconds")
        #expect(problem.line == 8)
        #expect(problem.message == "backoff_max_seconds (30) must be at least backoff_initial_seconds (60)")
    }

    @Test func warningMustComeBeforeTheRefreshTokenExpires() throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem(config("refresh_token_lifetime_days = 30"))
        #expect(problem.key == "[refresh].refresh_token_lifetime_days")
        #expect(problem.message.contains("refresh_token_warning_days (30) must be less than refresh_token_lifetime_days (30)"))
    }

    @Test func unknownRefreshKeyListsTheKnownOnes() throws {
        let fixture = try ConfigFixture()
        let problem = try fixture.problem(config("refresh_at = 0.5"))
        #expect(problem.key == "[refresh].refresh_at")
        #expect(problem.line == 7)
        #expect(problem.message.contains("known keys in [refresh]: refresh_at_fraction, jitter_fraction"))
    }
}
