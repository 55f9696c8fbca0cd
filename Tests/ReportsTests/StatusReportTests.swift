import Foundation
import Testing
import TokendPolicy
import TokendReports
import TokendStore

@Suite("The status report: what needs a person first, and the exit code")
struct StatusReportTests {
    let running = DaemonState(running: true, pid: 812)
    let organisations: [(name: String, enabled: Bool)] = [("acme", true), ("globex", true), ("initech", false)]

    func report(_ grants: GrantsInStates, daemon: DaemonState? = nil, filter: ReportFilter = ReportFilter()) throws -> StatusReport {
        StatusReport(records: try grants.records(), organisations: organisations, daemon: daemon ?? running, filter: filter, now: grants.now)
    }

    @Test("all authorised exits 0; disabled organisations count as fine")
    func allAuthorized() async throws {
        let grants = try GrantsInStates()
        defer { grants.cleanUp() }
        try await grants.authorized(.library("ACTIVE", of: "acme"))
        try await grants.authorized(.user("BOB", of: "acme"), by: GrantsInStates.bob)
        try await grants.authorized(.library("ARCHIVE", of: "initech"))
        let report = try report(grants)
        #expect(report.attention == .ok)
        #expect(report.attention.exitCode == 0)
        #expect(report.libraries.first { $0.key.organisation == "initech" }?.status == .disabled)
        #expect(report.users.map(\.key.subject) == ["BOB"])
    }

    @Test("retrying, an expiring refresh token, and an interrupted refresh are warnings: exit 1")
    func warnings() async throws {
        let grants = try GrantsInStates()
        defer { grants.cleanUp() }
        try await grants.failed(
            .library("ACTIVE", of: "acme"), status: .retrying,
            failure: RefreshFailure(.transient, httpStatus: 503, detail: "iManage answered 503"), next: grants.now.addingTimeInterval(30))
        #expect(try report(grants).attention == .warning)

        let expiring = try GrantsInStates()
        defer { expiring.cleanUp() }
        try await expiring.authorized(.library("ACTIVE", of: "acme"), refreshDaysLeft: 12)
        let entry = try #require(try report(expiring).libraries.first)
        #expect(entry.attention == .warning)
        #expect(entry.reason?.contains("refresh token expires in 12d") == true)

        let interrupted = try GrantsInStates()
        defer { interrupted.cleanUp() }
        let id = try await interrupted.authorized(.library("ACTIVE", of: "acme"))
        _ = try await interrupted.store.claimRefresh(id: id, owner: "daemon:1:1", now: interrupted.now.addingTimeInterval(-600), lease: 70)
        let uncertain = try report(interrupted)
        #expect(uncertain.attention.exitCode == 1)
        #expect(uncertain.libraries.first?.reason?.contains("outcome is uncertain") == true)
    }

    /// Found by the fault matrix: with the database on a full disk the daemon could record nothing,
    /// and `status` said `authorized` (exit 0) for access tokens long expired.
    @Test("an authorised grant whose access token has run out shows as expired, exit 2, and says where to look")
    func staleAuthorizedIsExpired() async throws {
        let grants = try GrantsInStates()
        defer { grants.cleanUp() }
        try await grants.authorized(.library("ACTIVE", of: "acme"))
        let later = StatusReport(records: try grants.records(), organisations: organisations, daemon: running,
                                 filter: ReportFilter(), now: grants.now.addingTimeInterval(1900))
        let entry = try #require(later.libraries.first)
        #expect(entry.status == .expired)
        #expect(later.attention.exitCode == 2)
        #expect(entry.reason?.contains("can it write its database") == true)
        // Before the access token runs out, the same grant is fine.
        #expect(try report(grants).libraries.first?.status == .authorized)
    }

    @Test("each status that needs a person exits 2, and sorts before warnings and fine ones",
          arguments: [GrantStatus.needsReauth, .clientError, .notNrtadmin, .expired])
    func needsAPerson(_ status: GrantStatus) async throws {
        let grants = try GrantsInStates()
        defer { grants.cleanUp() }
        try await grants.authorized(.library("AAA", of: "acme"))
        try await grants.failed(
            .library("BBB", of: "acme"), status: .retrying,
            failure: RefreshFailure(.transient, detail: "timed out"), next: grants.now.addingTimeInterval(30))
        try await grants.failed(
            .library("ZZZ", of: "globex"), status: status,
            failure: RefreshFailure(status == .clientError ? .clientRefused : .grantDead, httpStatus: 400, detail: "refused"), next: nil)
        let report = try report(grants)
        #expect(report.attention.exitCode == 2)
        #expect(report.libraries.map(\.key.subject) == ["ZZZ", "BBB", "AAA"])
        #expect(report.libraries.map(\.attention) == [.critical, .warning, .ok])
        #expect(report.libraries.first?.lastError?.contains("refused") == true)
        #expect(report.organisations.first { $0.name == "globex" }?.attention == .critical)
    }

    @Test("a refresh token past its expiry needs a person")
    func refreshTokenExpired() async throws {
        let grants = try GrantsInStates()
        defer { grants.cleanUp() }
        try await grants.authorized(.user("BOB", of: "acme"), by: GrantsInStates.bob, refreshDaysLeft: -1)
        let entry = try #require(try report(grants).users.first)
        #expect(entry.attention == .critical)
        #expect(entry.reason?.contains("the refresh token expired 24h ago") == true)
    }

    @Test("grants to refresh with no daemon running exit 2 and say so; an empty database does not")
    func daemonNotRunning() async throws {
        let grants = try GrantsInStates()
        defer { grants.cleanUp() }
        let stopped = DaemonState(running: false)
        #expect(try report(grants, daemon: stopped).attention == .ok)
        try await grants.authorized(.library("ACTIVE", of: "acme"))
        let report = try report(grants, daemon: stopped)
        #expect(report.attention.exitCode == 2)
        #expect(report.notes.first?.contains("the daemon is not running") == true)
        #expect(report.table(colour: false).hasPrefix("daemon: NOT running, imanage-tokend \(TokendVersion.current)\n"))
    }

    @Test("filters: organisation, library, user by id or email; a named library with no grant is unauthorized")
    func filters() async throws {
        let grants = try GrantsInStates()
        defer { grants.cleanUp() }
        try await grants.authorized(.library("ACTIVE", of: "acme"))
        try await grants.authorized(.library("ACTIVE", of: "globex"))
        try await grants.authorized(.user("BOB", of: "acme"), by: GrantsInStates.bob)
        #expect(try report(grants, filter: ReportFilter(organisation: "globex")).libraries.map(\.key.organisation) == ["globex"])
        #expect(try report(grants, filter: ReportFilter(organisation: "globex")).organisations.map(\.name) == ["globex"])
        #expect(try report(grants, filter: ReportFilter(library: "ACTIVE")).libraries.count == 2)
        #expect(try report(grants, filter: ReportFilter(library: "ACTIVE")).users.isEmpty)
        #expect(try report(grants, filter: ReportFilter(user: "Bob@Example.com")).users.map(\.key.subject) == ["BOB"])
        #expect(try report(grants, filter: ReportFilter(user: "bob")).users.count == 1)

        let missing = try report(grants, filter: ReportFilter(organisation: "acme", library: "RECORDS"))
        #expect(missing.libraries.map(\.status) == [.unauthorized])
        #expect(missing.attention.exitCode == 2)
        let disabled = try report(grants, filter: ReportFilter(organisation: "initech", library: "RECORDS"))
        #expect(disabled.libraries.map(\.status) == [.disabled])
        #expect(disabled.attention == .ok)
    }
}
