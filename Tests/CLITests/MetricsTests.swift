import Foundation
import Testing
import TokendTestSupport

/// `GET /metrics` of the real daemon over HTTP, as Prometheus scrapes it.
@Suite("Metrics", .serialized)
struct MetricsTests {
    /// The harness with `metrics_listen` (and `extra` top-level lines) written into its configuration.
    static func harness(extra: String = "") async throws -> (DaemonHarness, String) {
        let harness = try await DaemonHarness(accessTokenLifetime: 4)
        let port = try LocalPort.free()
        let text = try String(contentsOfFile: harness.config, encoding: .utf8)
        try ("metrics_listen = \"127.0.0.1:\(port)\"\n" + extra + text).write(toFile: harness.config, atomically: true, encoding: .utf8)
        return (harness, "http://127.0.0.1:\(port)/metrics")
    }

    /// The samples of a scrape: series (name and labels, as written) to value.
    static func samples(_ text: String) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            result[String(line[..<space])] = value
        }
        return result
    }

    /// Every line is a comment or `name{labels} value`, and every family has its TYPE before its samples.
    static func isWellFormed(_ text: String) -> Bool {
        var typed = Set<String>()
        let sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? -?[0-9.e+Inf-]+$/
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                typed.insert(String(line.split(separator: " ")[2]))
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let match = String(line).wholeMatch(of: sample) else { return false }
            let name = String(match.output.1)
            let family = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) ? String($0.dropLast($1.count)) : $0 }
            guard typed.contains(name) || typed.contains(family) else { return false }
        }
        return true
    }

    static let activeStatus = #"imanage_tokend_grant_status{organisation="demo",kind="library",id="ACTIVE",status="#

    @Test("each series follows the grant: authorised, refreshed, needs_reauth after a refusal; a revoked grant's series go")
    func seriesFollowTheGrant() async throws {
        let (harness, url) = try await Self.harness()
        try await harness.importGrant(["--library", "ACTIVE"], user: "ALICE")
        try await harness.startDaemon()
        // The first refresh, at about half of the 4 s access token's life.
        var scrape = ""
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            scrape = try await harness.curl([url])
            if (Self.samples(scrape).first { $0.key.hasPrefix("imanage_tokend_refreshes_total") && $0.key.contains("outcome=\"success\"") }?.value ?? 0) >= 1 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        var samples = Self.samples(scrape)
        #expect(Self.isWellFormed(scrape), "\(scrape.prefix(3000))")
        #expect(samples[Self.activeStatus + #""authorized"}"#] == 1)
        #expect(samples[Self.activeStatus + #""needs_reauth"}"#] == 0)
        let access = samples[#"imanage_tokend_grant_access_expiry_timestamp_seconds{organisation="demo",kind="library",id="ACTIVE"}"#] ?? 0
        #expect(abs(access - Date().timeIntervalSince1970) < 10, "the access expiry is a Unix time of the next seconds")
        #expect(samples[#"imanage_tokend_grant_next_refresh_timestamp_seconds{organisation="demo",kind="library",id="ACTIVE"}"#] != nil)
        #expect(samples[#"imanage_tokend_grant_refresh_token_expiry_timestamp_seconds{organisation="demo",kind="library",id="ACTIVE"}"#] != nil)
        #expect(samples[#"imanage_tokend_grants{organisation="demo",status="authorized"}"#] == 1)
        #expect(samples.contains { $0.key.hasPrefix("imanage_tokend_imanage_requests_total") && $0.key.contains(#"endpoint="token""#) && $0.key.contains(#"code="200""#) })
        #expect(samples.keys.contains { $0.hasPrefix("imanage_tokend_refresh_duration_seconds_bucket") })
        #expect((samples["imanage_tokend_store_commits_total"] ?? 0) >= 1)
        #expect(!scrape.contains("alice@example.com") && !scrape.contains("Alice Admin"), "no email or name in a label")

        // iManage refuses the refresh token: needs_reauth, counted as grant_dead.
        try await harness.fault(#"{"endpoint":"token","kind":"invalid_grant"}"#)
        let refused = try await harness.waitForStatus("needs_reauth", upTo: 10)
        samples = Self.samples(try await harness.curl([url]))
        #expect(refused)
        #expect(samples[Self.activeStatus + #""needs_reauth"}"#] == 1)
        #expect(samples[Self.activeStatus + #""authorized"}"#] == 0)
        #expect(samples.contains { $0.key.hasPrefix("imanage_tokend_refreshes_total") && $0.key.contains(#"error_class="grant_dead""#) && $0.value >= 1 })
        #expect(samples[#"imanage_tokend_grant_next_refresh_timestamp_seconds{organisation="demo",kind="library",id="ACTIVE"}"#] == nil,
                "a grant waiting for a person has no next refresh")

        // Revoked: its series are gone; the count by status says 0.
        let revoke = try await harness.tokend(["revoke", "--organisation", "demo", "--library", "ACTIVE"])
        #expect(revoke.status == 0, "\(revoke.stderr)")
        scrape = try await harness.curl([url])
        _ = try await harness.stopDaemon()
        #expect(!scrape.contains(#"id="ACTIVE""#), "a removed grant's series must disappear")
        #expect(Self.samples(scrape)[#"imanage_tokend_grants{organisation="demo",status="needs_reauth"}"#] == 0)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") {
            let file = harness.directory.appendingPathComponent("scrape.txt")
            try scrape.write(to: file, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
            process.arguments = ["check", "metrics"]
            process.standardInput = try FileHandle(forReadingFrom: file)
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            process.waitUntilExit()
            let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 0 && said.isEmpty, "promtool check metrics: \(said)")
        }
    }

    @Test("metrics_per_grant = false: only counts by organisation and status")
    func countsOnly() async throws {
        let (harness, url) = try await Self.harness(extra: "metrics_per_grant = false\n")
        try await harness.importGrant(["--library", "ACTIVE"], user: "ALICE")
        try await harness.importGrant(["--user", "BOB"], user: "BOB")
        try await harness.startDaemon()
        // The metrics listener opens just after the API socket the harness waits for.
        var scrape = ""
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !scrape.contains("imanage_tokend_grants") {
            scrape = try await harness.curl([url])
            if scrape.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        _ = try await harness.stopDaemon()
        let samples = Self.samples(scrape)
        #expect(samples[#"imanage_tokend_grants{organisation="demo",status="authorized"}"#] == 2, "\(scrape.prefix(2000))")
        #expect(!scrape.contains("imanage_tokend_grant_status"))
        #expect(!scrape.contains(#"id="ACTIVE""#))
    }
}
