import Foundation
import Testing
import TokendPolicy
import TokendReports
import TokendStore

@Suite("status output: the contract's JSON and a table for people")
struct StatusOutputTests {
    func sampleReport() async throws -> (StatusReport, GrantsInStates) {
        let grants = try GrantsInStates()
        try await grants.authorized(.library("ACTIVE", of: "acme"))
        try await grants.failed(
            .user("BOB", of: "acme"), status: .needsReauth,
            failure: RefreshFailure(.grantDead, httpStatus: 400, oauthError: "invalid_grant", detail: "the refresh token was refused"),
            next: nil)
        let report = StatusReport(
            records: try grants.records(), organisations: [("acme", true)], daemon: DaemonState(running: true, pid: 812),
            now: grants.now)
        return (report, grants)
    }

    @Test("--json has organisations, libraries, users; every entry has the contract's keys, times RFC 3339 UTC, no tokens")
    func jsonShape() async throws {
        let (report, grants) = try await sampleReport()
        defer { grants.cleanUp() }
        let text = report.jsonText()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["attention", "generated_at", "daemon", "nodes", "notes", "notifications_pending", "endpoints_down", "organisations", "libraries", "users"])
        #expect(object["attention"] as? String == "critical")
        #expect(object["generated_at"] as? String == "2027-01-15T08:00:00Z")
        let daemon = try #require(object["daemon"] as? [String: Any])
        #expect(daemon["running"] as? Bool == true && daemon["pid"] as? Int == 812)
        #expect(Set(daemon.keys) == ["running", "pid", "version", "missing_listeners"] && daemon["version"] as? String == TokendVersion.current,
                "daemon: \(daemon)")
        let organisations = try #require(object["organisations"] as? [[String: Any]])
        #expect(organisations.first?["name"] as? String == "acme")
        #expect(organisations.first?["libraries"] as? Int == 1 && organisations.first?["users"] as? Int == 1)

        let contractKeys: Set<String> = [
            "organisation", "id", "status", "authorized_by", "access_expires_at", "next_refresh_at",
            "refresh_token_expires_at", "last_refresh_at", "last_error",
        ]
        let library = try #require((object["libraries"] as? [[String: Any]])?.first)
        let user = try #require((object["users"] as? [[String: Any]])?.first)
        for entry in [library, user] {
            #expect(contractKeys.isSubset(of: Set(entry.keys)), "missing: \(contractKeys.subtracting(entry.keys))")
        }
        #expect(library["organisation"] as? String == "acme" && library["id"] as? String == "ACTIVE")
        #expect(library["status"] as? String == "authorized")
        #expect(library["access_expires_at"] as? String == "2027-01-15T08:30:00Z")
        #expect(library["next_refresh_at"] as? String == "2027-01-15T08:15:00Z")
        #expect(library["last_refresh_at"] as? String == "2027-01-15T08:00:00Z")
        #expect(library["last_error"] is NSNull)
        let authorizer = try #require(library["authorized_by"] as? [String: Any])
        #expect(authorizer["id"] as? String == "ALICE" && authorizer["email"] as? String == "alice@example.com"
            && authorizer["name"] as? String == "Alice Admin")
        #expect(user["status"] as? String == "needs_reauth")
        #expect(user["next_refresh_at"] is NSNull)
        #expect((user["last_error"] as? String)?.contains("invalid_grant") == true)
        #expect(!text.contains("rt-") && !text.contains("at-ACTIVE"), "a token reached the status output")
    }

    @Test("the table: a header of the issue's columns, what needs a person first, relative times, a summary")
    func table() async throws {
        let (report, grants) = try await sampleReport()
        defer { grants.cleanUp() }
        let lines = report.table(colour: false).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "daemon: running (pid 812), imanage-tokend \(TokendVersion.current)")
        let header = try #require(lines.first { $0.hasPrefix("ORGANISATION") })
        for column in ["LIBRARY/USER", "STATUS", "AUTHORISED BY", "ACCESS EXPIRES", "NEXT REFRESH", "REFRESH TOKEN EXPIRES", "LAST ERROR"] {
            #expect(header.contains(column))
        }
        let rows = lines.filter { $0.hasPrefix("acme") }
        #expect(rows.count == 2)
        #expect(rows[0].contains("user BOB") && rows[0].contains("needs_reauth") && rows[0].contains("invalid_grant"))
        #expect(rows[1].contains("library ACTIVE") && rows[1].contains("authorized") && rows[1].contains("in 30m")
            && rows[1].contains("in 15m") && rows[1].contains("alice@example.com"))
        // Columns line up: STATUS starts at the same offset in the header and each row.
        let statusColumn = header.range(of: "STATUS")!.lowerBound.utf16Offset(in: header)
        #expect(rows.allSatisfy { $0.dropFirst(statusColumn).hasPrefix("needs_reauth") || $0.dropFirst(statusColumn).hasPrefix("authorized") })
        #expect(lines.contains("2 grants: 1 needs a person, 0 with warnings, 1 ok"))
        #expect(!lines.joined().contains("\u{1B}"), "colour without a terminal")
    }

    @Test("colour wraps the status only, and removing it gives the plain table back")
    func colour() async throws {
        let (report, grants) = try await sampleReport()
        defer { grants.cleanUp() }
        let coloured = report.table(colour: true)
        #expect(coloured.contains("\u{1B}[31mneeds_reauth\u{1B}[0m"))
        #expect(coloured.contains("\u{1B}[32mauthorized\u{1B}[0m"))
        let stripped = coloured.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        #expect(stripped == report.table(colour: false))
    }

    @Test("colour only on a terminal with NO_COLOR unset")
    func colourPolicy() {
        // On a terminal: colour unless NO_COLOR is set to anything but the empty string (no-color.org).
        #expect(Terminal.wantsColour(environment: [:], isTerminal: true))
        #expect(Terminal.wantsColour(environment: ["NO_COLOR": ""], isTerminal: true))
        #expect(!Terminal.wantsColour(environment: ["NO_COLOR": "1"], isTerminal: true))
        // On a pipe or a file: never.
        #expect(!Terminal.wantsColour(environment: [:], isTerminal: false))
        // By default it asks stdout itself (a pipe under swift test, a terminal when run by hand).
        #expect(Terminal.wantsColour(environment: [:]) == (isatty(STDOUT_FILENO) == 1))
    }
}
