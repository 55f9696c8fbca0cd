import Foundation
import Logging
import TokendConfig
import TokendEngine
import TokendPolicy
import TokendReports
import TokendStore

/// What the token API does, apart from HTTP: reads the daemon's store and steers its engine.
public struct TokenAPIService: Sendable {
    /// A token with less than this left is not handed out: it would run out on its way to iManage.
    public static let minimumValidity: TimeInterval = 5
    /// The longest a refresh request waits for its outcome.
    public static let maximumWait: TimeInterval = 60

    let engine: RefreshEngine
    let store: any GrantStore
    let now: @Sendable () -> Date
    /// On a database several daemons share: every daemon's heartbeat (`nodes`); `nil` on SQLite,
    /// where this process is the one daemon.
    let sharedNodes: (@Sendable () async throws -> [DaemonNode])?

    public init(
        engine: RefreshEngine, store: any GrantStore, now: @escaping @Sendable () -> Date = { Date() },
        sharedNodes: (@Sendable () async throws -> [DaemonNode])? = nil
    ) {
        self.engine = engine
        self.store = store
        self.now = now
        self.sharedNodes = sharedNodes
    }

    /// The status report, as `status --json` prints it, with this process as a running daemon (on
    /// a shared database, with every other one its heartbeat lists); only of the organisations
    /// `visible` to the peer.
    func statusReport(filter: ReportFilter, visible: APIClientRule.Organisations = .all) async throws -> StatusReport {
        let configuration = engine.configuration
        let records = try await store.records(organisation: filter.organisation, kind: filter.kind)
        let pins = (try? await store.pinnedCustomers()) ?? []
        let current = now()
        let daemon: DaemonState
        // This process's notes of its listeners: beside the SQLite file, or beside its API socket on PostgreSQL.
        let missing = MissingListenersFile.read(database: configuration.postgres == nil ? configuration.database : configuration.apiSocket, pid: getpid())
        if let sharedNodes {
            var nodes = try await sharedNodes()
            let me = getpid()
            // This process answers, so it is alive whatever its last beat says.
            if let index = nodes.firstIndex(where: { $0.pid == Int(me) && $0.host == DaemonNode.localHostName() }) { nodes[index].alive = true }
            daemon = DaemonState(
                running: true, pid: me, missingListeners: missing, nodes: nodes,
                sharedDatabase: configuration.postgres?.description ?? configuration.database)
        } else {
            let lease = StatusRules(settings: configuration.refresh).claimLease
            daemon = DaemonState(
                running: true, pid: getpid(), missingListeners: missing,
                nodes: [DaemonNode.lockHolder(pid: getpid(), host: DaemonNode.localHostName(), records: records, lease: lease, now: current)])
        }
        var report = StatusReport(
            records: records.filter { visible.contains($0.key.organisation) },
            organisations: configuration.organisations.filter { visible.contains($0.name) }.map { ($0.name, $0.enabled) },
            daemon: daemon,
            filter: filter,
            rules: StatusRules(settings: configuration.refresh), now: current,
            customers: OrganisationCustomer.of(
                configured: configuration.organisations.map { ($0.name, $0.customerID) },
                pins: pins))
        // The outbox is of every organisation: counted only for a peer who sees them all.
        if case .all = visible { report.countPendingNotifications((try? await store.pendingNotificationCount()) ?? 0) }
        // Only endpoints of organisations the peer sees (the report's organisations are those).
        report.showEndpointsDown((try? await store.endpointOutages()) ?? [])
        return report
    }

    /// The grant of a library, or of a user named by id or email (ignoring case).
    /// - Throws: `AmbiguousUser` when the email is several users'.
    func record(organisation: String, kind: GrantKind, subject: String) async throws -> GrantRecord? {
        if let record = try await store.record(for: GrantKey(organisation: organisation, kind: kind, subject: subject)) {
            return record
        }
        guard kind == .user else { return nil }
        switch UserLookup.find(subject, among: try await store.records(organisation: organisation, kind: .user)) {
        case .found(let record): return record
        case .none: return nil
        case .ambiguous(let ids): throw AmbiguousUser(email: subject, organisation: organisation, ids: ids)
        }
    }

    enum TokenLookup {
        case valid(TokenAnswer)
        case notValid(NotValidAnswer)
        case notFound(String)
    }

    /// A currently valid access token of the grant, or why there is none. Never a stale token.
    func token(organisation: String, kind: GrantKind, subject: String) async throws -> TokenLookup {
        let what = "\(kind.rawValue) \(subject) of organisation \(organisation)"
        guard let record = try await record(organisation: organisation, kind: kind, subject: subject) else {
            let known = engine.configuration.organisation(named: organisation) != nil
            return .notFound(known
                ? "no grant for \(what): it was never authorised, or was revoked"
                : "no organisation \(organisation) in the configuration")
        }
        let current = now()
        let enabled = engine.configuration.organisation(named: organisation)?.enabled == true
        let rules = StatusRules(settings: engine.configuration.refresh)
        // The status every surface shows, not the stored one: a token is never served on a stored
        // `authorized` that the rules say no longer holds (run out, or NRTADMIN unconfirmed).
        let status = rules.effectiveStatus(of: record, organisationEnabled: enabled, now: current)
        func notValid(_ reason: String) -> TokenLookup {
            .notValid(NotValidAnswer(
                key: record.key, status: status, reason: reason, accessExpiresAt: record.accessExpiresAt,
                nextRefreshAt: status.isScheduled ? record.nextRefreshAt : nil, lastError: record.lastError))
        }
        switch status {
        case .authorized, .retrying:
            break
        case .disabled:
            return notValid("organisation \(organisation) is disabled: enable it in the configuration and reload")
        case .expired, .needsReauth, .clientError, .notNrtadmin, .unauthorized:
            // Named, as the rules see it: `expired` for a stored `authorized` whose token ran out.
            return notValid("\(status.rawValue): \(rules.reason(for: record, status: status, now: current))")
        }
        guard let expiry = record.accessExpiresAt, expiry.timeIntervalSince(current) >= Self.minimumValidity,
              let token = try await store.tokens(for: record.key)?.accessToken
        else {
            return notValid(record.accessExpiresAt.map {
                "the access token \($0 > current ? "runs out" : "ran out") at \(RFC3339.string($0)); a refresh is due"
                    + (record.nextRefreshAt.map { " at \(RFC3339.string($0))" } ?? "")
            } ?? "no access token yet; a refresh is due")
        }
        return .valid(TokenAnswer(
            key: record.key, status: status, accessToken: token, expiresAt: expiry, now: current,
            authorizedBy: record.authorizedBy))
    }

    /// Asks the engine to refresh each grant; with `wait`, awaits each outcome (the engine tells
    /// when the attempt's outcome is written) up to that many seconds in all.
    func refresh(_ grants: [(organisation: String, kind: GrantKind, subject: String)], wait: TimeInterval) async throws -> [RefreshResult] {
        let waiting = min(max(wait, 0), Self.maximumWait)
        var results: [RefreshResult] = []
        var pending: [(index: Int, ticket: RefreshTicket)] = []
        // Taken before the request, so an attempt that ends before we await it still answers.
        var tickets: [RefreshTicket] = []
        defer { tickets.forEach(engine.forget) }
        for grant in grants {
            guard let record = try await record(organisation: grant.organisation, kind: grant.kind, subject: grant.subject) else {
                results.append(RefreshResult(
                    key: GrantKey(organisation: grant.organisation, kind: grant.kind, subject: grant.subject),
                    outcome: "not_found", reason: "no grant: it was never authorised, or was revoked"))
                continue
            }
            let ticket = waiting > 0 ? engine.expectRefresh(ofGrant: record.id) : nil
            if let ticket { tickets.append(ticket) }
            switch try await engine.requestRefresh(record.key) {
            case .notFound:
                results.append(RefreshResult(key: record.key, outcome: "not_found", reason: "no grant: it was just revoked"))
            case let .refused(status, reason):
                results.append(RefreshResult(key: record.key, outcome: "refused", status: status, reason: reason))
            case let .scheduled(_, at, deferred):
                results.append(RefreshResult(
                    key: record.key, outcome: "scheduled", refreshAt: at, status: record.status,
                    reason: deferred ? "the last refresh was less than minimum_interval_seconds ago" : nil,
                    accessExpiresAt: record.accessExpiresAt, lastError: record.lastError))
                if let ticket { pending.append((results.count - 1, ticket)) }
            }
        }
        let deadline = ContinuousClock.now + .milliseconds(Int64(waiting * 1_000))
        for item in pending {
            let end = await engine.refreshOutcome(item.ticket, timeout: max(.zero, deadline - ContinuousClock.now))
            try await settle(&results[item.index], by: end)
        }
        return results
    }

    /// Fills in a scheduled refresh's result from how it ended (`nil`: not within the wait), by one read.
    private func settle(_ result: inout RefreshResult, by end: RefreshEnd?) async throws {
        guard let end else {
            if try await store.record(for: result.key) == nil {
                (result.outcome, result.reason) = ("not_found", "the grant was revoked meanwhile")
            }
            return
        }
        switch end {
        case .grantGone:
            (result.outcome, result.reason) = ("not_found", "the grant was revoked meanwhile")
        case .notRecorded(let why):
            (result.outcome, result.reason) = ("failed", why)
        case .written(_, let refreshed):
            guard let record = try await store.record(for: result.key) else {
                (result.outcome, result.reason) = ("not_found", "the grant was revoked meanwhile")
                return
            }
            let status = StatusRules(settings: engine.configuration.refresh).effectiveStatus(of: record, now: now())
            result.outcome = refreshed ? "refreshed" : "failed"
            result.status = status
            result.accessExpiresAt = record.accessExpiresAt
            result.lastError = refreshed ? nil : record.lastError
            let advice = GrantAdvice.whatToDo(status, record.key)
            result.reason = refreshed || advice.isEmpty ? nil : advice
        }
    }

    /// Removes the grant and its tokens (the engine records the event and logs it).
    func revoke(organisation: String, kind: GrantKind, subject: String) async throws -> GrantChangeAnswer? {
        guard let record = try await record(organisation: organisation, kind: kind, subject: subject),
              let transition = try await engine.revoke(record.key, message: "revoked by an administrator (imanage-tokend revoke)")
        else { return nil }
        return GrantChangeAnswer(key: record.key, status: transition.current, previousStatus: transition.previous)
    }

    /// Schedules a grant another process stored (`import`).
    func schedule(organisation: String, kind: GrantKind, subject: String) async throws -> GrantChangeAnswer? {
        guard let record = try await record(organisation: organisation, kind: kind, subject: subject) else { return nil }
        let at = try await engine.scheduleStored(record.key)
        return GrantChangeAnswer(key: record.key, status: record.status, refreshAt: at)
    }
}
