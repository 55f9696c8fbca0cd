import Foundation
import Testing
import TokendPolicy
import TokendReports
import TokendStore

@Suite("history: status changes, filters, --since")
struct HistoryReportTests {
    @Test("--since takes ages, RFC 3339 times, dates, today and yesterday; anything else is refused")
    func since() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z
        #expect(try SinceParser.parse("24h", now: now) == now.addingTimeInterval(-86_400))
        #expect(try SinceParser.parse("7d", now: now) == now.addingTimeInterval(-7 * 86_400))
        #expect(try SinceParser.parse("90m", now: now) == now.addingTimeInterval(-5400))
        #expect(try SinceParser.parse("2027-01-14T10:00:00Z", now: now) == Date(timeIntervalSince1970: 1_800_000_000 - 79_200))
        #expect(try SinceParser.parse("2027-01-14T11:00:00+01:00", now: now) == Date(timeIntervalSince1970: 1_800_000_000 - 79_200))
        #expect(try SinceParser.parse("2027-01-14", now: now) == Date(timeIntervalSince1970: 1_800_000_000 - 115_200))
        #expect(try SinceParser.parse("yesterday", now: now) == Date(timeIntervalSince1970: 1_800_000_000 - 115_200))
        #expect(try SinceParser.parse("today", now: now) == Date(timeIntervalSince1970: 1_800_000_000 - 28_800))
        for bad in ["", "h", "-3h", "soon", "24x", "2027-13-45"] {
            #expect(throws: SinceParser.Invalid.self) { try SinceParser.parse(bad, now: now) }
        }
    }

    @Test("events newest last, filtered by organisation, library, user (id or email) and since; JSON and table")
    func events() async throws {
        let grants = try GrantsInStates()
        defer { grants.cleanUp() }
        try await grants.failed(
            .library("ACTIVE", of: "acme"), status: .retrying,
            failure: RefreshFailure(.transient, httpStatus: 503, detail: "iManage answered 503"), next: nil)
        try await grants.authorized(.user("BOB", of: "acme"), by: GrantsInStates.bob)
        try await grants.authorized(.library("ACTIVE", of: "globex"))
        let users = try grants.store.records(kind: .user)

        func events(_ filter: ReportFilter, since: Date? = nil) throws -> [GrantEvent] {
            try grants.store.events(HistoryReport.eventFilter(filter, since: since, limit: nil, users: users))
        }
        let all = try events(ReportFilter())
        #expect(all.count == 4)
        #expect(all.map(\.at) == all.map(\.at).sorted())
        #expect(try events(ReportFilter(organisation: "acme", library: "ACTIVE")).map(\.status) == [.authorized, .retrying])
        #expect(try events(ReportFilter(library: "ACTIVE")).count == 3)
        #expect(try events(ReportFilter(organisation: "acme", user: "bob@example.com")).map(\.key.subject) == ["BOB"])
        #expect(try events(ReportFilter(user: "BOB")).count == 1)
        #expect(try events(ReportFilter(), since: grants.now.addingTimeInterval(1)).isEmpty)
        #expect(try events(ReportFilter(), since: grants.now).count == 4)

        let report = HistoryReport(events: try events(ReportFilter(organisation: "acme", library: "ACTIVE")))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.jsonText().utf8)) as? [String: Any])
        let list = try #require(object["events"] as? [[String: Any]])
        #expect(list.count == 2)
        #expect(list[1]["status"] as? String == "retrying" && list[1]["previous_status"] as? String == "authorized")
        #expect(list[1]["error_class"] as? String == "transient" && list[1]["http_status"] as? Int == 503)
        #expect(list[1]["kind"] as? String == "library" && list[1]["id"] as? String == "ACTIVE")
        #expect(list[0]["previous_status"] is NSNull && list[0]["at"] as? String == "2027-01-15T08:00:00Z")

        let table = report.table(colour: false)
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("TIME") && lines[0].contains("CHANGE"))
        #expect(lines[1].contains("new → authorized"))
        #expect(lines[2].contains("authorized → retrying") && lines[2].contains("transient HTTP 503"))
        #expect(HistoryReport(events: []).table(colour: false) == "no status changes match\n")
    }
}
