import Foundation
import Testing
import TokendPolicy
@testable import TokendStore
@testable import TokendEngine

@Suite("The start-up order of overdue grants")
struct StartupOrderTests {
    func entry(_ id: Int64, expiresIn seconds: Double?, inFlight: Bool = false) -> ScheduleEntry {
        ScheduleEntry(
            id: id, organisation: "demo", status: .authorized, nextRefreshAt: Date(timeIntervalSince1970: 0),
            accessExpiresAt: seconds.map { Date(timeIntervalSince1970: 1_000 + $0) }, refreshWasInFlight: inFlight)
    }

    /// With rotation and a grace period the old refresh token works only for a while after iManage
    /// replaced it: the crash run counts on an interrupted refresh being tried again before the rest.
    @Test("interrupted refreshes come first, then the soonest-expiring access tokens (none at all counts as expired)")
    func interruptedFirst() {
        let order = RefreshEngine.startupOrder([
            entry(1, expiresIn: 600), entry(2, expiresIn: 900, inFlight: true), entry(3, expiresIn: 60),
            entry(4, expiresIn: nil), entry(5, expiresIn: 30, inFlight: true),
        ])
        #expect(order.map(\.id) == [5, 2, 4, 3, 1])
    }
}
