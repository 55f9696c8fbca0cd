import Foundation
import Logging
import Synchronization
import TokendConfig
import TokendPolicy
import TokendStore

/// The engine's outage state of every token endpoint (`EndpointOutageBook`) behind a lock: an
/// outage is a property of an endpoint, not of a grant. While one is down a single grant probes
/// it and every other grant of it waits, sending nothing; when it answers, they are released.
final class EndpointOutages: Sendable {
    private let book: Mutex<EndpointOutageBook>

    init(policy: RefreshPolicy) {
        book = Mutex(EndpointOutageBook(policy: policy))
    }

    func decide(_ grant: Int64, endpoint: String, accessExpiresAt: Date?, now: Date) -> EndpointOutageBook.Decision {
        book.withLock { $0.decide(grant, endpoint: endpoint, accessExpiresAt: accessExpiresAt, now: now) }
    }

    /// After an attempt; the outage's organisations are filled in by `follow` (rarely needed, not free).
    func record(
        _ grant: Int64, endpoint: String, failure: RefreshFailure?, accessExpiresAt: Date?, now: Date
    ) -> EndpointOutageBook.Step {
        book.withLock {
            $0.record(grant, endpoint: endpoint, organisations: [], failure: failure, accessExpiresAt: accessExpiresAt,
                      now: now, unitRandom: .random(in: 0..<1))
        }
    }

    func settle(_ grant: Int64, look: EndpointLook, canRefresh: Bool, now: Date) -> (grant: Int64, at: Date)? {
        book.withLock {
            $0.settle(grant, reachedDecision: look.reachedDecision, attempted: look.attempted, canRefresh: canRefresh, now: now)
        }
    }

    func wasReleased(_ grant: Int64) -> Bool { book.withLock { $0.wasReleased(grant) } }

    /// The endpoints down now (for the daemon's own view; `status` reads the store).
    var outages: [EndpointOutage] { book.withLock { $0.outages } }
}

/// How far one look at a grant got, for `EndpointOutages.settle`.
struct EndpointLook {
    var reachedDecision = false
    var attempted = false
}

extension RefreshEngine {
    /// The token endpoint of an organisation, by name.
    func endpoint(of organisation: OrganisationConfig) -> String { EndpointOutage.name(of: organisation.tokenURL) }

    /// The configured organisations whose token URL is `endpoint`.
    func organisations(at endpoint: String) -> [String] {
        configuration.organisations.filter { EndpointOutage.name(of: $0.tokenURL) == endpoint }.map(\.name)
    }

    /// Holds a grant while its endpoint is down: nothing is sent, its access token is kept, its
    /// status is `retrying` while that token is valid and `expired` once it has run out. A wake-up
    /// at the token's expiry makes that turn on time; otherwise it waits to be released. The change
    /// is in the history, and logged at debug only: the journal has one line for the endpoint.
    func waitForEndpoint(
        _ record: GrantRecord, outage: EndpointOutage, nextRefreshAt: Date?, scheduleNext: Bool, now: Date
    ) async throws {
        let status = RefreshPolicy(settings: configuration.refresh).passingFailureStatus(accessExpiresAt: record.accessExpiresAt, now: now)
        let message = "waiting: the token endpoint \(outage.endpoint) is down since \(outage.since.formatted(.iso8601)) "
            + "(\(outage.lastFailure)); one grant probes it, this one sends nothing until it answers"
        let transitions = try await store.setStatus(
            status, ofGrants: [record.id], message: message, failure: outage.lastFailure, nextRefreshAt: nextRefreshAt, now: now)
        transitions.filter(\.changed).forEach { log($0, failure: outage.lastFailure, level: .debug) }
        if let expiry = record.accessExpiresAt, expiry > now, nextRefreshAt.map({ expiry < $0 }) ?? true {
            scheduler.schedule(record.id, at: expiry)
        }
        if scheduleNext, let nextRefreshAt { scheduler.schedule(record.id, at: nextRefreshAt) }
    }

    /// After an attempt that sent a request: what the endpoint's state does with the grant.
    /// Returns `true` when the outage took over the grant's scheduling.
    func follow(_ step: EndpointOutageBook.Step, of record: GrantRecord, now: Date) async throws -> Bool {
        switch step {
        case .none:
            return false
        case .wentDown(var outage, let others):
            outage.organisations = organisations(at: outage.endpoint)
            logger.warning(
                "token endpoint \(outage.endpoint) is down: \(configuration.refresh.outageGrants) grants failed within \(Int(configuration.refresh.outageWindow)) s (\(outage.lastFailure)); one grant probes it on the backoff, the others wait, send nothing and keep their access tokens",
                metadata: Self.fields(of: outage))
            try await store.saveEndpointOutage(outage, now: now)
            try await waitForEndpoint(record, outage: outage, nextRefreshAt: outage.nextProbeAt, scheduleNext: true, now: now)
            // Those that failed before wait from now on too, rather than at their own retries.
            for other in others {
                guard let waiting = try await store.record(id: other), waiting.status.isScheduled,
                      case .wait = outages.decide(other, endpoint: outage.endpoint, accessExpiresAt: waiting.accessExpiresAt, now: now)
                else { continue }
                try await waitForEndpoint(waiting, outage: outage, nextRefreshAt: nil, scheduleNext: false, now: now)
            }
            return true
        case .probeFailed(var outage, let nextProbe):
            outage.organisations = organisations(at: outage.endpoint)
            logger.debug("token endpoint \(outage.endpoint) still down (\(outage.lastFailure)); next probe at \(outage.nextProbeAt?.formatted(.iso8601) ?? "-")",
                         metadata: Self.fields(of: outage))
            try await store.saveEndpointOutage(outage, now: now)
            let mine = nextProbe == record.id
            try await waitForEndpoint(record, outage: outage, nextRefreshAt: mine ? outage.nextProbeAt : nil, scheduleNext: mine, now: now)
            // The probe goes by turns: another waiting grant sends the next one.
            if !mine, let at = outage.nextProbeAt { scheduler.schedule(nextProbe, at: at) }
            return true
        case .wait(let outage):
            try await waitForEndpoint(record, outage: outage, nextRefreshAt: nil, scheduleNext: false, now: now)
            return true
        case .recovered(let outage, let release):
            let rate = max(configuration.refresh.recoveryRefreshesPerSecond, 0.001)
            logger.notice(
                "token endpoint \(outage.endpoint) answers again after \(Int(now.timeIntervalSince(outage.since).rounded())) s down: \(release.count) waiting grants are refreshed, soonest-expiring first, at up to \(Self.number(rate)) a second",
                metadata: ["TOKEND_ENDPOINT": .string(outage.endpoint)])
            try await store.removeEndpointOutage(endpoint: outage.endpoint)
            scheduler.schedule(release.enumerated().map {
                GrantScheduler.Entry(deadline: now.addingTimeInterval(Double($0.offset) / rate), grantID: $0.element)
            })
            return false
        }
    }

    /// At the end of every look at a grant: a probe whose turn would be lost is scheduled again
    /// (or another waiting grant takes its place).
    func settleOutage(_ grantID: Int64, look: EndpointLook, record: GrantRecord?) {
        let canRefresh = record.map { $0.status.isScheduled && organisation(named: $0.key.organisation)?.enabled == true } ?? false
        if let probe = outages.settle(grantID, look: look, canRefresh: canRefresh, now: now()) {
            scheduler.schedule(probe.grant, at: probe.at)
        }
    }

    /// Whether a grant's status change is logged quietly (debug): it was held by, or released from,
    /// an outage that has its own journal lines.
    static func outageIsQuiet(_ step: EndpointOutageBook.Step, released: Bool) -> Bool {
        switch step {
        case .wait, .probeFailed: true
        case .none, .recovered: released
        case .wentDown: false
        }
    }

    static func fields(of outage: EndpointOutage) -> Logger.Metadata {
        var fields: Logger.Metadata = [
            "TOKEND_ENDPOINT": .string(outage.endpoint),
            "TOKEND_ERROR_CLASS": .string(outage.lastFailure.failureClass.rawValue),
        ]
        if let status = outage.lastFailure.httpStatus { fields["TOKEND_HTTP_STATUS"] = .stringConvertible(status) }
        return fields
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && value < 1e15 ? String(Int64(value)) : String(value)
    }
}
