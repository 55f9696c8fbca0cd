import Foundation
import Testing
import TokendPolicy

/// The lifecycle's other rules: the effective status every surface shows, the NRTADMIN rule, the
/// claim lease, a new authorisation's first refresh, the start-up order.
@Suite("The rules of a grant's life")
struct GrantLifecycleRulesTests {
    let lifecycle = GrantLifecycle()
    let now = LifecycleFixtures.now
    typealias Fixture = LifecycleFixtures

    @Test("an authorized or retrying grant whose access token ran out is expired; other stored statuses stand")
    func effectiveExpired() {
        #expect(lifecycle.effectiveStatus(of: Fixture.record(.authorized, accessLeft: 1), now: now) == .authorized)
        #expect(lifecycle.effectiveStatus(of: Fixture.record(.authorized, accessLeft: 0), now: now) == .expired)
        #expect(lifecycle.effectiveStatus(of: Fixture.record(.retrying, accessLeft: -60), now: now) == .expired)
        #expect(lifecycle.effectiveStatus(of: Fixture.record(.authorized, accessLeft: nil), now: now) == .authorized)
        for status: GrantStatus in [.needsReauth, .clientError, .notNrtadmin, .unauthorized, .expired] {
            #expect(lifecycle.effectiveStatus(of: Fixture.record(status, accessLeft: -60), now: now) == status)
        }
    }

    @Test("a library whose membership was not confirmed for twice nrtadmin_check_hours is not_nrtadmin (fails closed); a user never")
    func effectiveUnconfirmed() {
        #expect(lifecycle.effectiveStatus(of: Fixture.record(nrtadminCheckedAgo: 2 * 86_400), now: now) == .authorized)
        #expect(lifecycle.effectiveStatus(of: Fixture.record(nrtadminCheckedAgo: 2 * 86_400 + 1), now: now) == .notNrtadmin)
        #expect(lifecycle.effectiveStatus(of: Fixture.record(nrtadminCheckedAgo: nil, createdAgo: 3 * 86_400), now: now) == .notNrtadmin,
                "never confirmed counts from the grant's creation")
        #expect(lifecycle.effectiveStatus(of: Fixture.record(kind: .user, createdAgo: 30 * 86_400), now: now) == .authorized)
        #expect(lifecycle.unconfirmedMembershipSince(Fixture.record(nrtadminCheckedAgo: 3 * 86_400), now: now)
            == now.addingTimeInterval(-3 * 86_400))
    }

    @Test("the NRTADMIN rule: member by id ignoring case; 403/404 mean not a member; a passing failure is unknown and never confirms")
    func nrtadminVerdict() {
        #expect(NrtadminCheck.verdict(members: .success(["alice", "BOB"]), userID: "ALICE") == .member)
        #expect(NrtadminCheck.verdict(members: .success(["BOB"]), userID: "ALICE") == .notMember)
        for status in [403, 404] {
            #expect(NrtadminCheck.verdict(members: .failure(RefreshFailure(.grantDead, httpStatus: status, detail: "no")), userID: "ALICE")
                == .notMember)
        }
        let passing = RefreshFailure(.transient, httpStatus: 503, detail: "unavailable")
        #expect(NrtadminCheck.verdict(members: .failure(passing), userID: "ALICE") == .unknown(passing))
        // Unknown changes nothing in the update: the grant is tried again, and unconfirmed it is not served.
        var update = GrantUpdate(status: .authorized, message: "refreshed", nextRefreshAt: now)
        lifecycle.nrtadminChecked(.unknown(passing), of: Fixture.record(), into: &update, at: now)
        #expect(update.status == .authorized && update.nrtadminCheckedAt == nil)
    }

    @Test("the NRTADMIN rule asks the organisation's customer (configured, else pinned, else the grant's) and stops a token of another")
    func nrtadminCustomer() {
        #expect(NrtadminCheck.customerToAsk(reported: .success("1"), configured: "1", pinned: nil, grantCustomer: "1") == .ask(customerID: "1"))
        #expect(NrtadminCheck.customerToAsk(reported: .success("1"), configured: nil, pinned: "1", grantCustomer: "1") == .ask(customerID: "1"))
        #expect(NrtadminCheck.customerToAsk(reported: .success("2"), configured: nil, pinned: nil, grantCustomer: "1") == .ask(customerID: "1"))
        #expect(NrtadminCheck.customerToAsk(reported: .success("2"), configured: "1", pinned: nil, grantCustomer: "2")
            == .decided(.otherCustomer(reported: "2", expected: "1")))
        let down = RefreshFailure(.transient, detail: "timed out")
        #expect(NrtadminCheck.customerToAsk(reported: .failure(down), configured: "1", pinned: nil, grantCustomer: "1")
            == .decided(.unknown(down)))
        var update = GrantUpdate(status: .authorized, message: "refreshed", nextRefreshAt: now)
        lifecycle.nrtadminChecked(.otherCustomer(reported: "2", expected: "1"), of: Fixture.record(), into: &update, at: now)
        #expect(update.status == .notNrtadmin && update.nextRefreshAt == nil)
        #expect(update.message.contains("belongs to iManage customer 2, but this organisation is customer 1"))
    }

    @Test("a claim is honoured for one request's connect and request timeouts plus 30 s (70 s by default)")
    func claimLease() {
        #expect(lifecycle.claimLease == 70)
        var settings = RefreshSettings()
        settings.connectTimeout = 5
        settings.requestTimeout = 60
        #expect(GrantLifecycle(settings: settings).claimLease == 95)
        #expect(GrantLifecycle(settings: settings).longestRequest == 65)
    }

    @Test("a new authorisation is refreshed first at half-life; the presented refresh token stands in when the answer has none; none at all is no grant")
    func newAuthorization() throws {
        let made = try #require(lifecycle.newAuthorization(
            key: .library("ACTIVE", of: "demo"), identity: Fixture.alice, tokens: Fixture.tokens(expiresIn: 1800, rotated: false),
            presentedRefreshToken: "rt-presented", message: "imported", configuredCustomerID: "1", now: now, unitRandom: 0.5))
        #expect(made.nextRefreshAt == now.addingTimeInterval(900))
        #expect(made.refreshToken.token == "rt-presented")
        #expect(made.refreshToken.expiresAt == now.addingTimeInterval(365 * 86_400))
        #expect(made.nrtadminCheckedAt == now, "a library is admitted only after its NRTADMIN check")
        let user = lifecycle.newAuthorization(
            key: .user("ALICE", of: "demo"), identity: Fixture.alice, tokens: Fixture.tokens(), presentedRefreshToken: nil,
            message: "authorised", configuredCustomerID: nil, now: now, unitRandom: 0.5)
        #expect(user?.refreshToken.token == "rt-new" && user?.nrtadminCheckedAt == nil)
        #expect(lifecycle.newAuthorization(
            key: .user("ALICE", of: "demo"), identity: Fixture.alice, tokens: Fixture.tokens(rotated: false), presentedRefreshToken: "",
            message: "authorised", configuredCustomerID: nil, now: now, unitRandom: 0.5) == nil)
    }

    /// With rotation and a grace period the old refresh token works only for a while after iManage
    /// replaced it: the crash run counts on an interrupted refresh being tried again before the rest.
    @Test("start-up: interrupted refreshes come first, then the soonest-expiring access tokens (none at all counts as expired)")
    func startupOrder() {
        func entry(_ id: Int64, expiresIn seconds: Double?, inFlight: Bool = false) -> ScheduleEntry {
            ScheduleEntry(
                id: id, organisation: "demo", status: .authorized, nextRefreshAt: Date(timeIntervalSince1970: 0),
                accessExpiresAt: seconds.map { Date(timeIntervalSince1970: 1_000 + $0) }, refreshWasInFlight: inFlight)
        }
        let order = GrantLifecycle.startupOrder([
            entry(1, expiresIn: 600), entry(2, expiresIn: 900, inFlight: true), entry(3, expiresIn: 60),
            entry(4, expiresIn: nil), entry(5, expiresIn: 30, inFlight: true),
        ])
        #expect(order.map(\.id) == [5, 2, 4, 3, 1])
    }

    @Test("what to do next: said for every status that needs a person, nothing for those that do not")
    func advice() {
        let key = GrantKey.library("ACTIVE", of: "demo")
        for status in GrantStatus.allCases {
            #expect(GrantAdvice.whatToDo(status, key).isEmpty == (status.severity != .critical), "\(status)")
        }
        #expect(GrantAdvice.waitsForAPerson(.needsReauth) && !GrantAdvice.waitsForAPerson(.expired))
    }
}
