import Foundation
import Testing
import TokendPolicy
import TokendReports

@Suite("The status report of a token endpoint that is down")
struct EndpointOutageReportTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let outage = EndpointOutage(
        endpoint: "https://acme.example.com/auth/oauth2/token", organisations: ["acme"], since: now.addingTimeInterval(-300),
        lastFailure: RefreshFailure(.transient, httpStatus: 503, detail: "iManage answered 503 Service Unavailable"),
        nextProbeAt: now.addingTimeInterval(20), failedProbes: 4, waitingGrants: 998)

    @Test("status says the endpoint is down (since when, last error, next probe): a warning, a note, and endpoints_down in the JSON")
    func shownDown() throws {
        var report = StatusReport(
            records: [], organisations: [("acme", true), ("other", true)], daemon: DaemonState(running: true, pid: 812), now: Self.now)
        #expect(report.attention == .ok)
        report.showEndpointsDown([Self.outage])
        #expect(report.attention == .warning)
        let table = report.table(colour: false)
        #expect(table.contains("note: token endpoint https://acme.example.com/auth/oauth2/token (acme) is down since 5m ago: iManage answered 503 Service Unavailable (HTTP 503)"), "\(table)")
        #expect(table.contains("next probe in 20s"))
        #expect(table.contains("998 grants wait"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.jsonText().utf8)) as? [String: Any])
        let down = try #require(json["endpoints_down"] as? [[String: Any]])
        #expect(down.count == 1)
        #expect(down.first?["endpoint"] as? String == Self.outage.endpoint)
        #expect(down.first?["since"] as? String == "2027-01-15T07:55:00Z")
        #expect(down.first?["next_probe_at"] as? String == "2027-01-15T08:00:20Z")
        #expect(down.first?["http_status"] as? Int == 503)
        #expect(down.first?["error_class"] as? String == "transient")
        #expect(down.first?["waiting_grants"] as? Int == 998)
        #expect(down.first?["organisations"] as? [String] == ["acme"])
    }

    @Test("an endpoint of organisations the report does not show is left out, and none is shown for a daemon that is not running")
    func onlyWhatIsShown() throws {
        var other = StatusReport(records: [], organisations: [("other", true)], daemon: DaemonState(running: true), now: Self.now)
        other.showEndpointsDown([Self.outage])
        #expect(other.endpointsDown.isEmpty)
        #expect(other.attention == .ok)
        var stopped = StatusReport(records: [], organisations: [("acme", true)], daemon: DaemonState(running: false), now: Self.now)
        stopped.showEndpointsDown([Self.outage])
        #expect(stopped.endpointsDown.isEmpty)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(stopped.jsonText().utf8)) as? [String: Any])
        #expect((json["endpoints_down"] as? [Any])?.isEmpty == true, "the key is always there")
    }
}
