import Foundation

/// A token endpoint that is down, as `status` shows it and the store keeps it: since when, the
/// last passing failure, when the one probe goes out next, and how many grants wait for it.
public struct EndpointOutage: Sendable, Equatable {
    /// The token URL without query or fragment (`https://cloudimanage.com/auth/oauth2/token`).
    public var endpoint: String
    /// The configured organisations whose token URL this is (for the views that show only some).
    public var organisations: [String]
    public var since: Date
    public var lastFailure: RefreshFailure
    /// When the probe goes out next; `nil` while it is out.
    public var nextProbeAt: Date?
    /// Probes that failed since the endpoint went down.
    public var failedProbes: Int
    /// Grants that wait for the endpoint, sending nothing (the probe not counted).
    public var waitingGrants: Int

    public init(
        endpoint: String, organisations: [String], since: Date, lastFailure: RefreshFailure, nextProbeAt: Date?,
        failedProbes: Int = 0, waitingGrants: Int = 0
    ) {
        self.endpoint = endpoint
        self.organisations = organisations
        self.since = since
        self.lastFailure = lastFailure
        self.nextProbeAt = nextProbeAt
        self.failedProbes = failedProbes
        self.waitingGrants = waitingGrants
    }

    /// The name of a token endpoint: its URL without user, query or fragment.
    public static func name(of tokenURL: URL) -> String {
        guard var components = URLComponents(url: tokenURL, resolvingAgainstBaseURL: false) else { return tokenURL.absoluteString }
        components.user = nil
        components.password = nil
        components.query = nil
        components.fragment = nil
        return components.string ?? tokenURL.absoluteString
    }
}

/// When the one probe of a down endpoint goes out again. Pure: randomness comes in as `unitRandom`.
public struct OutageProbeRule: Sendable {
    public let policy: RefreshPolicy

    public init(policy: RefreshPolicy) { self.policy = policy }

    /// The moment of the next probe after the `failedProbes`-th failed one (1 for the failure that
    /// marked the endpoint down): the grant backoff, but no later than when the soonest waiting
    /// access token runs out, and at most `outageProbeMaximum` apart once one has run out or will
    /// before then (consumers get 503 then: the outage should end for them soon after it ends for
    /// iManage). A `Retry-After` longer than that is honoured (up to `retryAfterMaximum`). Never
    /// sooner than the lesser of `minimumInterval` and `outageProbeMaximum`: when that is sooner than
    /// one grant may send again, the book hands the probe to another grant (`EndpointOutageBook`).
    public func nextProbe(
        afterFailedProbes failedProbes: Int, retryAfter: TimeInterval?, soonestAccessExpiry: Date?, now: Date, unitRandom: Double
    ) -> Date {
        let settings = policy.settings
        var delay = policy.retryDelay(afterFailures: failedProbes, retryAfter: nil, unitRandom: unitRandom)
        if let soonest = soonestAccessExpiry, soonest < now.addingTimeInterval(delay) {
            delay = min(delay, max(settings.outageProbeMaximum, soonest.timeIntervalSince(now)))
        }
        if let retryAfter, retryAfter > delay {
            delay = min(retryAfter, max(settings.retryAfterMaximum, delay))
        }
        return now.addingTimeInterval(max(delay, min(settings.minimumInterval, settings.outageProbeMaximum)))
    }
}

/// The state of every token endpoint the engine talks to, and the rules that move it.
///
/// An endpoint goes down when passing failures (`FailureClass.transient`) come from at least
/// `outageGrants` distinct grants within `outageWindow`, with no answer between them; a single
/// grant's failures never take it down. While it is down, one grant (the probe) is let through at a
/// time, at `OutageProbeRule`'s moments; every other grant waits, sending nothing. Any answer
/// that is not a passing failure (tokens, or a refusal: the server is there) brings it back up, and
/// the waiting grants are released soonest-expiring first. Pure: the caller passes `now` and
/// `unitRandom` and keeps the value behind its own lock.
public struct EndpointOutageBook: Sendable {
    public let policy: RefreshPolicy

    /// What to do with a grant about to be refreshed.
    public enum Decision: Sendable, Equatable {
        case refresh
        /// Send nothing: the endpoint is down. `nextRefreshAt` is the probe's moment when this grant
        /// is the probe (its turn has not come), else `nil` (released when the endpoint answers).
        case wait(EndpointOutage, nextRefreshAt: Date?)
    }

    /// What an attempt's outcome changed.
    public enum Step: Sendable, Equatable {
        /// Nothing of the endpoint's: schedule the grant by its own outcome.
        case none
        /// This failure took the endpoint down; this grant is its probe, due at `outage.nextProbeAt`.
        /// `alsoWaiting`: the grants whose failures came before, now waiting too.
        case wentDown(EndpointOutage, alsoWaiting: [Int64])
        /// The probe failed again; the next goes out at `outage.nextProbeAt`, sent by `nextProbe`: this
        /// grant, or another waiting one when the probe is due sooner than one grant may send again
        /// (`minimumInterval`), so the endpoint is probed every `outageProbeMaximum` and no grant
        /// more often than its own minimum.
        case probeFailed(EndpointOutage, nextProbe: Int64)
        /// The endpoint is down and another grant probes it: this one waits.
        case wait(EndpointOutage)
        /// The endpoint answered: release `release` (soonest-expiring first).
        case recovered(EndpointOutage, release: [Int64])
    }

    struct Waiting: Sendable {
        var accessExpiresAt: Date?
    }

    struct Down: Sendable {
        var outage: EndpointOutage
        var probe: Int64
        /// When the probe was let through; `nil` while it waits for its moment.
        var probeSentAt: Date?
        var waiting: [Int64: Waiting] = [:]
        /// Grants that probed lately, with when their probe failed (each sends at most once per
        /// `minimumInterval`, so the probe goes by turns when it is due sooner).
        var recentProbes: [Int64: Date] = [:]
    }

    enum State: Sendable {
        /// Grants whose latest attempt failed passingly, with when, since the last answer.
        case up(recentFailures: [Int64: Date])
        case down(Down)
    }

    var endpoints: [String: State] = [:]
    /// Grants released by a recovery and not yet refreshed (their outcome is logged quietly).
    var released: Set<Int64> = []

    public init(policy: RefreshPolicy) { self.policy = policy }

    /// The endpoints that are down now.
    public var outages: [EndpointOutage] {
        endpoints.values.compactMap {
            guard case .down(let down) = $0 else { return nil }
            var outage = down.outage
            outage.waitingGrants = down.waiting.keys.filter { $0 != down.probe }.count
            return outage
        }.sorted { $0.endpoint < $1.endpoint }
    }

    /// Whether `grant` was released by a recovery and has not been attempted since.
    public func wasReleased(_ grant: Int64) -> Bool { released.contains(grant) }

    /// How long a probe let through may stay unanswered before another grant takes its place.
    var probeLease: TimeInterval { GrantLifecycle(settings: policy.settings).claimLease }

    /// Before refreshing `grant` at `endpoint`: let it through, or hold it.
    public mutating func decide(_ grant: Int64, endpoint: String, accessExpiresAt: Date?, now: Date) -> Decision {
        guard case .down(var down) = endpoints[endpoint] else { return .refresh }
        defer { endpoints[endpoint] = .down(down) }
        let due = down.outage.nextProbeAt ?? now
        let probeLost = down.probeSentAt.map { now >= $0.addingTimeInterval(probeLease) }
            ?? (now >= due.addingTimeInterval(probeLease))
        if (down.probeSentAt == nil && grant == down.probe && now >= due.addingTimeInterval(-0.001)) || probeLost {
            if down.probe != grant { down.waiting[down.probe] = down.waiting[down.probe] ?? Waiting() }
            down.probe = grant
            down.probeSentAt = now
            down.outage.nextProbeAt = nil
            down.waiting[grant] = nil
            return .refresh
        }
        if grant != down.probe { down.waiting[grant] = Waiting(accessExpiresAt: accessExpiresAt) }
        return .wait(down.outage, nextRefreshAt: grant == down.probe ? down.outage.nextProbeAt : nil)
    }

    /// After an attempt of `grant` at `endpoint` that sent a request: `failure` is its passing or
    /// other failure, `nil` for tokens. `organisations` are those whose token URL this is.
    public mutating func record(
        _ grant: Int64, endpoint: String, organisations: [String], failure: RefreshFailure?, accessExpiresAt: Date?,
        now: Date, unitRandom: Double
    ) -> Step {
        released.remove(grant)
        let passing = failure?.failureClass == .transient
        switch endpoints[endpoint] ?? .up(recentFailures: [:]) {
        case .up(var recent):
            guard let failure, passing else {
                endpoints[endpoint] = nil
                return .none
            }
            let window = policy.settings.outageWindow
            recent = recent.filter { now.timeIntervalSince($0.value) <= window }
            recent[grant] = now
            guard recent.count >= max(2, policy.settings.outageGrants) else {
                endpoints[endpoint] = .up(recentFailures: recent)
                return .none
            }
            let next = OutageProbeRule(policy: policy).nextProbe(
                afterFailedProbes: 1, retryAfter: failure.retryAfter, soonestAccessExpiry: accessExpiresAt, now: now,
                unitRandom: unitRandom)
            let outage = EndpointOutage(
                endpoint: endpoint, organisations: organisations, since: now, lastFailure: failure, nextProbeAt: next)
            var down = Down(outage: outage, probe: grant)
            // The other grants that failed wait for the endpoint; their own retries are dropped.
            let others = recent.keys.filter { $0 != grant }.sorted()
            for other in others { down.waiting[other] = Waiting() }
            endpoints[endpoint] = .down(down)
            return .wentDown(outage, alsoWaiting: others)

        case .down(var down):
            guard let failure, passing else {
                endpoints[endpoint] = nil
                var outage = down.outage
                outage.waitingGrants = down.waiting.count
                // The probe too, when another grant's answer came first.
                if down.probe != grant, down.probeSentAt == nil { down.waiting[down.probe] = down.waiting[down.probe] ?? Waiting() }
                let order = down.waiting.filter { $0.key != grant }.sorted(by: Self.soonestExpiring).map(\.key)
                released.formUnion(order)
                return .recovered(outage, release: order)
            }
            down.outage.lastFailure = failure
            guard grant == down.probe else {
                down.waiting[grant] = Waiting(accessExpiresAt: accessExpiresAt)
                endpoints[endpoint] = .down(down)
                return .wait(down.outage)
            }
            down.outage.failedProbes += 1
            down.probeSentAt = nil
            let soonest = (down.waiting.values.compactMap(\.accessExpiresAt) + [accessExpiresAt].compactMap { $0 }).min()
            var next = OutageProbeRule(policy: policy).nextProbe(
                afterFailedProbes: down.outage.failedProbes + 1, retryAfter: failure.retryAfter,
                soonestAccessExpiry: soonest, now: now, unitRandom: unitRandom)
            let minimum = policy.settings.minimumInterval
            down.recentProbes[grant] = now
            down.recentProbes = down.recentProbes.filter { next.timeIntervalSince($0.value) < minimum }
            let turn = next < now.addingTimeInterval(minimum)
                ? down.waiting.filter { down.recentProbes[$0.key] == nil }.min(by: Self.soonestExpiring)?.key : nil
            if let turn {
                down.waiting[grant] = Waiting(accessExpiresAt: accessExpiresAt)
                down.probe = turn
                down.waiting[turn] = nil
            } else {
                next = max(next, now.addingTimeInterval(minimum))
                down.waiting[grant] = nil
            }
            down.outage.nextProbeAt = next
            endpoints[endpoint] = .down(down)
            var outage = down.outage
            outage.waitingGrants = down.waiting.count
            return .probeFailed(outage, nextProbe: down.probe)
        }
    }

    /// At the end of each look at `grant`, whatever came of it. `reachedDecision`: `decide` was
    /// asked; `attempted`: `record` was told; `canRefresh`: the grant still exists and is to be
    /// refreshed. Returns a probe to schedule when the probe's turn would otherwise be lost (its
    /// attempt went nowhere, or the grant can no longer probe and another takes its place).
    public mutating func settle(
        _ grant: Int64, reachedDecision: Bool, attempted: Bool, canRefresh: Bool, now: Date
    ) -> (grant: Int64, at: Date)? {
        if !canRefresh { released.remove(grant) }
        for (endpoint, state) in endpoints {
            guard case .down(var down) = state else { continue }
            if !canRefresh { down.waiting[grant] = nil }
            guard down.probe == grant else {
                endpoints[endpoint] = .down(down)
                continue
            }
            defer { endpoints[endpoint] = .down(down) }
            if down.probeSentAt != nil, !attempted {
                // Let through, but nothing was sent or recorded (another process held it, the
                // database failed): its turn comes again after the minimum interval.
                down.probeSentAt = nil
                if canRefresh {
                    let at = now.addingTimeInterval(policy.settings.minimumInterval)
                    down.outage.nextProbeAt = at
                    return (grant, at)
                }
                down.outage.nextProbeAt = now
            }
            guard down.probeSentAt == nil, let due = down.outage.nextProbeAt, now >= due.addingTimeInterval(-0.001) else { return nil }
            if canRefresh && reachedDecision && !attempted {
                // Its turn came while it was busy: look again now.
                return (grant, now)
            }
            // It cannot probe (gone, no longer refreshed, held by its organisation's pause, or its
            // entry was dropped): the soonest-expiring waiting grant takes its place.
            guard let next = down.waiting.min(by: Self.soonestExpiring)?.key else { return nil }
            if canRefresh { down.waiting[grant] = Waiting() }
            down.probe = next
            down.waiting[next] = nil
            return (next, now)
        }
        return nil
    }

    /// Soonest-expiring first (those with no known expiry before all), then by id.
    static func soonestExpiring(_ a: (key: Int64, value: Waiting), _ b: (key: Int64, value: Waiting)) -> Bool {
        (a.value.accessExpiresAt ?? .distantPast, a.key) < (b.value.accessExpiresAt ?? .distantPast, b.key)
    }
}
