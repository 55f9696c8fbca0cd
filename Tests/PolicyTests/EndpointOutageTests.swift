import Foundation
import Testing
import TokendPolicy

/// The outage rules on an injected clock: when an endpoint goes down, who may send while it is
/// down, when the probe goes out, and the order the waiting grants are released in.
@Suite("Endpoint outages: one probe per down token endpoint, the rest wait")
struct EndpointOutageTests {
    static let endpoint = "https://cloudimanage.com/auth/oauth2/token"
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let outage503 = RefreshFailure(.transient, httpStatus: 503, detail: "iManage answered 503")

    static func book(_ change: (inout RefreshSettings) -> Void = { _ in }) -> EndpointOutageBook {
        var settings = RefreshSettings()
        change(&settings)
        return EndpointOutageBook(policy: RefreshPolicy(settings: settings))
    }

    @discardableResult
    static func fail(
        _ book: inout EndpointOutageBook, _ grant: Int64, at seconds: TimeInterval, failure: RefreshFailure = outage503,
        expiry: Date? = nil
    ) -> EndpointOutageBook.Step {
        book.record(grant, endpoint: endpoint, organisations: ["acme"], failure: failure, accessExpiresAt: expiry,
                    now: start.addingTimeInterval(seconds), unitRandom: 0)
    }

    static func isDown(_ step: EndpointOutageBook.Step) -> Bool {
        if case .wentDown = step { return true }
        return false
    }

    @Test("one grant failing again and again never takes the endpoint down")
    func oneGrantNeverDown() {
        var book = Self.book()
        for round in 0..<20 {
            #expect(Self.fail(&book, 7, at: Double(round)) == .none)
        }
        #expect(book.outages.isEmpty)
        #expect(book.decide(8, endpoint: Self.endpoint, accessExpiresAt: nil, now: Self.start.addingTimeInterval(21)) == .refresh)
    }

    @Test("passing failures of three distinct grants within the window take it down; refusals and answers do not count")
    func threeDistinctGrants() {
        var book = Self.book()
        #expect(Self.fail(&book, 1, at: 0) == .none)
        // invalid_grant is an answer: the endpoint is there.
        #expect(Self.fail(&book, 2, at: 1, failure: RefreshFailure(.grantDead, httpStatus: 400, oauthError: "invalid_grant", detail: "refused")) == .none)
        #expect(Self.fail(&book, 3, at: 2) == .none)
        #expect(Self.fail(&book, 4, at: 3) == .none, "the answer between cleared the failures before it")
        let step = Self.fail(&book, 5, at: 4)
        #expect(Self.isDown(step))
        if case .wentDown(_, let others) = step { #expect(others == [3, 4], "the grants that failed before wait too") }
        #expect(book.outages.map(\.endpoint) == [Self.endpoint])
        #expect(book.outages.first?.since == Self.start.addingTimeInterval(4))
        #expect(book.outages.first?.lastFailure == Self.outage503)
    }

    @Test("failures further apart than the window do not add up")
    func windowMatters() {
        var book = Self.book { $0.outageWindow = 10 }
        #expect(Self.fail(&book, 1, at: 0) == .none)
        #expect(Self.fail(&book, 2, at: 11) == .none)
        #expect(Self.fail(&book, 3, at: 22) == .none)
        #expect(Self.fail(&book, 4, at: 25) == .none, "only 3 and 4 failed within the last 10 s")
        #expect(book.outages.isEmpty)
        #expect(Self.isDown(Self.fail(&book, 5, at: 26)), "3, 4 and 5 failed within 4 s")
    }

    @Test("while down: only the probe goes, at its moment; every other grant waits and sends nothing")
    func onlyTheProbe() throws {
        var book = Self.book()
        Self.fail(&book, 1, at: 0)
        Self.fail(&book, 2, at: 0)
        guard case .wentDown(let outage, _) = Self.fail(&book, 3, at: 0) else { Issue.record("not down"); return }
        let due = try #require(outage.nextProbeAt)
        // The grant backoff (30 s at unitRandom 0), nothing about access tokens known.
        #expect(due == Self.start.addingTimeInterval(30))
        for grant in [1, 2, 4, 5] as [Int64] {
            #expect(book.decide(grant, endpoint: Self.endpoint, accessExpiresAt: nil, now: Self.start.addingTimeInterval(31))
                        == .wait(outage, nextRefreshAt: nil), "grant \(grant) let through while the endpoint is down")
        }
        // The probe, before its moment: waits, told when its turn is.
        #expect(book.decide(3, endpoint: Self.endpoint, accessExpiresAt: nil, now: Self.start.addingTimeInterval(29))
                    == .wait(outage, nextRefreshAt: due))
        #expect(book.decide(3, endpoint: Self.endpoint, accessExpiresAt: nil, now: due) == .refresh)
        // While it is out, nobody else goes, not even at the moment it was due.
        if case .refresh = book.decide(4, endpoint: Self.endpoint, accessExpiresAt: nil, now: due) { Issue.record("a second probe went out") }
        #expect(book.outages.first?.waitingGrants == 4)
        // Another endpoint is not concerned.
        #expect(book.decide(9, endpoint: "https://other.example/auth/oauth2/token", accessExpiresAt: nil, now: due) == .refresh)
    }

    @Test("probe timing: the backoff doubles; capped once access tokens run out; Retry-After honoured")
    func probeTiming() throws {
        var book = Self.book { $0.outageProbeMaximum = 30 }
        let far = Self.start.addingTimeInterval(86_400)
        Self.fail(&book, 1, at: 0, expiry: far)
        Self.fail(&book, 2, at: 0, expiry: far)
        guard case .wentDown(let outage, _) = Self.fail(&book, 3, at: 0, expiry: far) else { Issue.record("not down"); return }
        var due = try #require(outage.nextProbeAt)
        var delays: [TimeInterval] = []
        for _ in 0..<5 {
            #expect(book.decide(3, endpoint: Self.endpoint, accessExpiresAt: far, now: due) == .refresh)
            let step = book.record(3, endpoint: Self.endpoint, organisations: ["acme"], failure: Self.outage503,
                                   accessExpiresAt: far, now: due, unitRandom: 1)
            guard case .probeFailed(let again, _) = step else { Issue.record("not a failed probe: \(step)"); return }
            let next = try #require(again.nextProbeAt)
            delays.append(next.timeIntervalSince(due))
            due = next
        }
        // unitRandom 1: the ceiling of each step, 60, 120, 240, 300, 300 (tokens valid for a day).
        #expect(delays == [60, 120, 240, 300, 300])

        // A waiting grant whose token ran out: the probe goes at most 30 s apart.
        _ = book.decide(4, endpoint: Self.endpoint, accessExpiresAt: due.addingTimeInterval(-1), now: due)
        #expect(book.decide(3, endpoint: Self.endpoint, accessExpiresAt: far, now: due) == .refresh)
        guard case .probeFailed(let capped, _) = book.record(
            3, endpoint: Self.endpoint, organisations: ["acme"], failure: Self.outage503, accessExpiresAt: far, now: due, unitRandom: 1)
        else { Issue.record("not a failed probe"); return }
        #expect(capped.nextProbeAt == due.addingTimeInterval(30))

        // Retry-After: 120 asks for longer than the cap: honoured.
        let next = try #require(capped.nextProbeAt)
        #expect(book.decide(3, endpoint: Self.endpoint, accessExpiresAt: far, now: next) == .refresh)
        let slow = RefreshFailure(.transient, httpStatus: 429, retryAfter: 120, detail: "too many requests")
        guard case .probeFailed(let asked, _) = book.record(
            3, endpoint: Self.endpoint, organisations: ["acme"], failure: slow, accessExpiresAt: far, now: next, unitRandom: 1)
        else { Issue.record("not a failed probe"); return }
        #expect(asked.nextProbeAt == next.addingTimeInterval(120))
        #expect(asked.lastFailure == slow)
    }

    @Test("the probe comes no later than the soonest waiting access token runs out, so a short blip costs no expired")
    func probeBeforeExpiry() throws {
        var thirty = RefreshSettings()
        thirty.outageProbeMaximum = 30
        let rule = OutageProbeRule(policy: RefreshPolicy(settings: thirty))
        let now = Self.start
        // Backoff ceiling 300 s after 5 failures; a token running out in 100 s brings the probe forward to then.
        #expect(rule.nextProbe(afterFailedProbes: 5, retryAfter: nil, soonestAccessExpiry: now.addingTimeInterval(100), now: now, unitRandom: 1)
                    == now.addingTimeInterval(100))
        // One running out in 5 s: not sooner than the 30 s cap (nor the minimum interval).
        #expect(rule.nextProbe(afterFailedProbes: 5, retryAfter: nil, soonestAccessExpiry: now.addingTimeInterval(5), now: now, unitRandom: 1)
                    == now.addingTimeInterval(30))
        // None runs out before the backoff: the backoff.
        #expect(rule.nextProbe(afterFailedProbes: 5, retryAfter: nil, soonestAccessExpiry: now.addingTimeInterval(900), now: now, unitRandom: 1)
                    == now.addingTimeInterval(300))
        // A configured cap of 5 s once they have run out.
        var settings = RefreshSettings()
        settings.outageProbeMaximum = 5
        let fast = OutageProbeRule(policy: RefreshPolicy(settings: settings))
        #expect(fast.nextProbe(afterFailedProbes: 9, retryAfter: nil, soonestAccessExpiry: now.addingTimeInterval(-60), now: now, unitRandom: 1)
                    == now.addingTimeInterval(5))
    }

    /// Found at scale: with the defaults (probe at most 2 s apart, a grant at most every 5 s) the one
    /// probe went every 5 s, as a single grant, so the first answer came up to 5 s after the return.
    @Test("once tokens have run out the endpoint is probed every outage_probe_max_seconds, by turns, no grant more often than its minimum interval")
    func probeByTurns() throws {
        var book = Self.book()
        let settings = RefreshSettings()
        let expired = Self.start.addingTimeInterval(-60)
        Self.fail(&book, 1, at: 0, expiry: expired)
        Self.fail(&book, 2, at: 0, expiry: expired)
        guard case .wentDown(let outage, _) = Self.fail(&book, 3, at: 0, expiry: expired) else { Issue.record("not down"); return }
        _ = book.decide(4, endpoint: Self.endpoint, accessExpiresAt: expired, now: Self.start)
        var probe: Int64 = 3
        var due = try #require(outage.nextProbeAt)
        var sent: [(grant: Int64, at: Date)] = []
        for _ in 0..<8 {
            for other in Set<Int64>([1, 2, 3, 4]).subtracting([probe]) {
                #expect(book.decide(other, endpoint: Self.endpoint, accessExpiresAt: expired, now: due) != .refresh, "grant \(other) sent beside the probe")
            }
            #expect(book.decide(probe, endpoint: Self.endpoint, accessExpiresAt: expired, now: due) == .refresh)
            sent.append((probe, due))
            guard case .probeFailed(let again, let next) = book.record(
                probe, endpoint: Self.endpoint, organisations: ["acme"], failure: Self.outage503, accessExpiresAt: expired,
                now: due, unitRandom: 1)
            else { Issue.record("not a failed probe"); return }
            probe = next
            due = try #require(again.nextProbeAt)
        }
        let gaps = zip(sent, sent.dropFirst()).map { $1.at.timeIntervalSince($0.at) }
        #expect(gaps.allSatisfy { abs($0 - settings.outageProbeMaximum) < 0.001 }, "probes \(gaps) s apart")
        #expect(Set(sent.map(\.grant)).count > 1, "always the same grant")
        for grant in Set(sent.map(\.grant)) {
            let times = sent.filter { $0.grant == grant }.map(\.at)
            let closest = zip(times, times.dropFirst()).map { $1.timeIntervalSince($0) }.min() ?? .infinity
            #expect(closest >= settings.minimumInterval, "grant \(grant) sent \(closest) s after its last")
        }
    }

    @Test("an answer ends the outage: the waiting grants are released soonest-expiring first, already expired ones first of all")
    func releaseOrder() throws {
        var book = Self.book()
        let at = { (seconds: TimeInterval) in Self.start.addingTimeInterval(seconds) }
        Self.fail(&book, 1, at: 0)
        Self.fail(&book, 2, at: 0)
        guard case .wentDown(let outage, _) = Self.fail(&book, 3, at: 0) else { Issue.record("not down"); return }
        let due = try #require(outage.nextProbeAt)
        _ = book.decide(10, endpoint: Self.endpoint, accessExpiresAt: at(900), now: at(1))
        _ = book.decide(11, endpoint: Self.endpoint, accessExpiresAt: at(-5), now: at(1))
        _ = book.decide(12, endpoint: Self.endpoint, accessExpiresAt: at(120), now: at(1))
        _ = book.decide(13, endpoint: Self.endpoint, accessExpiresAt: nil, now: at(1))
        #expect(book.decide(3, endpoint: Self.endpoint, accessExpiresAt: nil, now: due) == .refresh)
        let step = book.record(3, endpoint: Self.endpoint, organisations: ["acme"], failure: nil, accessExpiresAt: at(2000),
                               now: due, unitRandom: 0)
        guard case .recovered(_, let release) = step else { Issue.record("not recovered: \(step)"); return }
        // 1 and 2 failed with no access token known (first), then 13 (none), 11 (ran out), 12, 10.
        #expect(release == [1, 2, 13, 11, 12, 10])
        #expect(book.outages.isEmpty)
        #expect(book.wasReleased(12))
        #expect(book.decide(12, endpoint: Self.endpoint, accessExpiresAt: at(120), now: due) == .refresh)
        _ = book.record(12, endpoint: Self.endpoint, organisations: ["acme"], failure: nil, accessExpiresAt: at(3000), now: due, unitRandom: 0)
        #expect(!book.wasReleased(12))
    }

    @Test("a probe whose turn went nowhere is rescheduled; one that can no longer probe hands over to a waiting grant")
    func probeHandOver() throws {
        var book = Self.book()
        Self.fail(&book, 1, at: 0)
        Self.fail(&book, 2, at: 0)
        guard case .wentDown(let outage, _) = Self.fail(&book, 3, at: 0) else { Issue.record("not down"); return }
        let due = try #require(outage.nextProbeAt)
        _ = book.decide(20, endpoint: Self.endpoint, accessExpiresAt: due.addingTimeInterval(50), now: due.addingTimeInterval(-1))
        // Let through, but another process held the grant: nothing was sent; again after the minimum interval (5 s).
        #expect(book.decide(3, endpoint: Self.endpoint, accessExpiresAt: nil, now: due) == .refresh)
        let settled = book.settle(3, reachedDecision: true, attempted: false, canRefresh: true, now: due)
        let again = try #require(settled)
        #expect(again.grant == 3 && again.at == due.addingTimeInterval(5))
        // At that moment the grant turns out revoked: the soonest-expiring waiting grant (1, 2: unknown) probes instead.
        let handOver = book.settle(3, reachedDecision: false, attempted: false, canRefresh: false, now: again.at)
        let handed = try #require(handOver)
        #expect(handed.grant == 1 && handed.at == again.at)
        #expect(book.decide(1, endpoint: Self.endpoint, accessExpiresAt: nil, now: again.at) == .refresh)
        // A wake of an ordinary waiting grant hands nothing over.
        let ordinary = book.settle(20, reachedDecision: true, attempted: false, canRefresh: true, now: again.at)
        #expect(ordinary == nil)
    }

    @Test("a probe lost without trace is replaced by the next grant that comes after its lease")
    func lostProbe() throws {
        var book = Self.book()
        Self.fail(&book, 1, at: 0)
        Self.fail(&book, 2, at: 0)
        guard case .wentDown(let outage, _) = Self.fail(&book, 3, at: 0) else { Issue.record("not down"); return }
        let due = try #require(outage.nextProbeAt)
        #expect(book.decide(3, endpoint: Self.endpoint, accessExpiresAt: nil, now: due) == .refresh)
        // Lease: request 30 + connect 10 + 30 s.
        if case .refresh = book.decide(4, endpoint: Self.endpoint, accessExpiresAt: nil, now: due.addingTimeInterval(69)) {
            Issue.record("a second probe before the first one's lease ran out")
        }
        #expect(book.decide(4, endpoint: Self.endpoint, accessExpiresAt: nil, now: due.addingTimeInterval(71)) == .refresh)
    }

    @Test("the endpoint's name drops user, query and fragment")
    func endpointName() throws {
        let url = try #require(URL(string: "https://user:pw@imanage.example.com:8443/auth/oauth2/token?x=1#f"))
        #expect(EndpointOutage.name(of: url) == "https://imanage.example.com:8443/auth/oauth2/token")
    }
}
