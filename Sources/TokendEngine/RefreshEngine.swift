import Dispatch
import Foundation
import IManageClient
import Logging
import Synchronization
import TokendConfig
import TokendPolicy
import TokendStore

/// The daemon's heart: schedules every grant, refreshes what falls due with bounded
/// concurrency, reschedules by the outcome, and logs every status change with its journal fields.
public final class RefreshEngine: Sendable {
    private let configurationBox: Mutex<TokendConfiguration>
    /// The configuration in force (organisations change at SIGHUP).
    public var configuration: TokendConfiguration { configurationBox.withLock { $0 } }
    /// Grants being processed by this process now: a grant scheduled twice is never refreshed twice at once.
    private let inProcess = Mutex<Set<Int64>>([])
    /// Refreshes asked for (`requestRefresh`) and not yet attempted, with the moment they are due.
    let requestedRefreshes = Mutex<[Int64: Date]>([:])
    /// Those waiting for a grant's refresh to end (`expectRefresh`), told when its outcome is written.
    let waiters = RefreshWaiters()
    let store: any GrantStore
    private let refresher: GrantRefresher
    let logger: Logger
    let now: @Sendable () -> Date
    let scheduler: GrantScheduler
    private let due: AsyncStream<Int64>
    private let dueContinuation: AsyncStream<Int64>.Continuation
    private let pauses = OrganisationPauses()
    /// Token endpoints found down: one probe each, the other grants wait (EndpointOutages.swift).
    let outages: EndpointOutages
    private let storeHealth = StoreHealth()
    /// Prunes old events by `[history] keep_days`, once a day (it follows SIGHUP reloads).
    let retention: EventRetention
    /// How loud a routine refresh (no status change) is: `debug` keeps the journal quiet; the demo
    /// raises it to `info` (`run --log-each-refresh`) to show the daemon at work.
    let routineRefreshLevel: Logger.Level

    public init(
        configuration: TokendConfiguration, store: any GrantStore, client: IManageHTTPClient, owner: String, logger: Logger,
        routineRefreshLevel: Logger.Level = .debug, now: @escaping @Sendable () -> Date = { Date() },
        batchWindow: TimeInterval = RefreshEngine.defaultBatchWindow,
        sharedDatabase: Bool = false
    ) {
        self.routineRefreshLevel = routineRefreshLevel
        configurationBox = Mutex(configuration)
        self.store = store
        self.logger = logger
        self.now = now
        refresher = GrantRefresher(
            store: store, client: client, policy: RefreshPolicy(settings: configuration.refresh), owner: owner,
            // On a database several daemons share, another daemon's claim is never presumed gone: its
            // lease, on the database's clock, decides (it may be alive on another machine).
            now: now, ownerIsGone: { other in sharedDatabase ? false : RefreshEngine.ownerIsGone(other, me: owner) })
        retention = EventRetention(store: store, keepDays: configuration.history.keepDays, logger: logger, now: now)
        outages = EndpointOutages(policy: RefreshPolicy(settings: configuration.refresh))
        (due, dueContinuation) = AsyncStream.makeStream(of: Int64.self)
        let continuation = dueContinuation
        scheduler = GrantScheduler(queue: DispatchQueue(label: "imanage-tokend.scheduler"), now: now, coalescing: batchWindow) { entries in
            for entry in entries { continuation.yield(entry.grantID) }
        }
    }

    /// How much later than its planned time a refresh may start, so that those falling due
    /// together are claimed and written together (docs/performance.md): one second, against a
    /// half-life of 15 minutes and a jitter of ±90 s. Never earlier; a refresh asked for is not delayed.
    public static let defaultBatchWindow: TimeInterval = 1

    /// A claim's owner has stopped: any other daemon (this one holds the single-instance lock),
    /// or a CLI process that no longer exists.
    static func ownerIsGone(_ other: String, me: String) -> Bool {
        let parts = other.split(separator: ":")
        switch parts.first {
        case "daemon": return other != me
        case "cli": return parts.count > 1 && Int32(parts[1]).map { kill($0, 0) != 0 && errno == ESRCH } == true
        default: return false
        }
    }

    /// Loads every grant and schedules it: those whose refresh was out when the last process stopped
    /// first, then those overdue (soonest-expiring first), spread at the configured start-up rate.
    /// Grants of organisations that are disabled or gone from the configuration become `disabled`.
    @discardableResult
    public func start() async throws -> (scheduled: Int, overdue: Int) {
        // Outages are found again from this run's own requests; what an earlier run kept is stale.
        try await store.removeEndpointOutage(endpoint: nil)
        let started = try await scheduleFromStore()
        retention.start()
        if let restored = try await store.grantsUnconfirmedSinceRestore(), restored.count > 0 {
            logger.notice("this database is a copy restored from a backup taken at \(restored.takenAt.formatted(.iso8601)): \(restored.count) grants hold a refresh token from before it; any that iManage rotated since will be refused and named so, to be authorised again")
        }
        return started
    }

    /// Takes a new configuration (SIGHUP) without dropping any grant: organisations added, disabled,
    /// re-enabled or with new URLs or credentials apply from each grant's next refresh, and grants
    /// stored since the last scan (`import`) are scheduled. Database, key and refresh settings
    /// need a restart; the caller says so.
    @discardableResult
    public func reload(_ newConfiguration: TokendConfiguration) async throws -> (scheduled: Int, overdue: Int) {
        configurationBox.withLock {
            $0.organisations = newConfiguration.organisations
            // Who may use the token API follows the file too: a narrowed rule must not wait for a restart.
            $0.apiClients = newConfiguration.apiClients
            $0.history = newConfiguration.history
        }
        retention.keepDays = newConfiguration.history.keepDays
        return try await scheduleFromStore()
    }

    /// Schedules every grant in the store. A grant already scheduled gets a second entry; the
    /// later of the two finds its refresh done and is dropped.
    private func scheduleFromStore() async throws -> (scheduled: Int, overdue: Int) {
        let configuration = self.configuration
        let policy = RefreshPolicy(settings: configuration.refresh)
        let startedAt = now()
        let enabled = Set(configuration.organisations.filter(\.enabled).map(\.name))
        var overdue: [ScheduleEntry] = []
        var onTime: [GrantScheduler.Entry] = []
        var toDisable: [Int64] = []
        try await store.forEachScheduleEntry { entry in
            guard enabled.contains(entry.organisation) else {
                if entry.status != .disabled { toDisable.append(entry.id) }
                return
            }
            guard entry.status.isScheduled || entry.status == .disabled || entry.refreshWasInFlight else { return }
            if entry.refreshWasInFlight || entry.status == .disabled || (entry.nextRefreshAt ?? .distantPast) <= startedAt {
                overdue.append(entry)
            } else if let next = entry.nextRefreshAt {
                onTime.append(GrantScheduler.Entry(deadline: next, grantID: entry.id))
            }
        }
        if !toDisable.isEmpty {
            let transitions = try await store.setStatus(
                .disabled, ofGrants: toDisable, message: "the organisation is disabled or not in the configuration",
                failure: nil, nextRefreshAt: nil, now: startedAt)
            transitions.filter(\.changed).forEach { log($0) }
        }
        scheduler.schedule(onTime)
        scheduler.schedule(GrantLifecycle.startupOrder(overdue).enumerated().map {
            GrantScheduler.Entry(deadline: policy.startupDeadline(forOverdueIndex: $0.offset, now: startedAt), grantID: $0.element.id)
        })
        return (onTime.count + overdue.count, overdue.count)
    }

    /// Refreshes what falls due until `stop()`, with at most `max_concurrent_refreshes` at once.
    public func run() async {
        let workers = max(1, configuration.refresh.maxConcurrentRefreshes)
        // The workers run on the concurrency pool, not on the HTTP client's event loops: a worker's
        // store calls block (SQLite behind its lock, a busy wait of up to 10 s), and on an event loop
        // they would hold up every connection of that loop, the web pages' and the token API's
        // included. Preferring the event loops saved a thread hop per refresh within the noise
        // (332 → 309 µs at ~200/s, docs/performance.md).
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask { [self] in
                    for await grantID in due { await process(grantID) }
                }
            }
        }
    }

    /// Stops taking new work; `run()` returns once the refreshes in flight have finished.
    public func stop() {
        dueContinuation.finish()
        scheduler.stop()
        retention.stop()
    }

    /// Schedules a grant that was authorised or imported while the daemon runs.
    public func scheduleNow(_ grantID: Int64) {
        scheduler.schedule(grantID, at: now())
    }

    /// Schedules a grant stored while the daemon runs (the authorisation pages) at its first
    /// refresh. `scheduleNow` would be dropped as stale when the grant's next refresh lies ahead.
    public func schedule(_ grantID: Int64, at deadline: Date) {
        scheduler.schedule(grantID, at: deadline)
    }

    /// The organisation called `name` in the running configuration (it follows SIGHUP reloads).
    public func organisation(named name: String) -> OrganisationConfig? {
        configuration.organisation(named: name)
    }

    /// The organisations of the running configuration.
    public var organisations: [OrganisationConfig] { configuration.organisations }

    /// The worst delay between a deadline and its timer firing since the last call (benchmark figure).
    public func takeWorstSchedulingLateness() -> TimeInterval { scheduler.takeWorstLateness() }

    private func process(_ grantID: Int64) async {
        guard inProcess.withLock({ $0.insert(grantID).inserted }) else {
            // Asked for while this grant is being processed: look again once that is done.
            if requestedRefreshes.withLock({ $0[grantID] != nil }) {
                scheduler.schedule(grantID, at: now().addingTimeInterval(0.25))
            }
            return
        }
        var known: GrantRecord?
        var look = EndpointLook()
        defer {
            _ = inProcess.withLock { $0.remove(grantID) }
            settleOutage(grantID, look: look, record: known)
        }
        let configuration = self.configuration
        do {
            guard let record = try await store.record(id: grantID) else {
                waiters.finish(.grantGone, grantID: grantID, attempt: nil)
                return
            }
            known = record
            let current = now()
            // A later entry of the same grant exists when its next refresh moved: this one is stale,
            // unless a refresh was asked for and is due (a refresh that ran meanwhile moved the next one).
            let requestDue = requestedRefreshes.withLock { $0[grantID] }.map { current >= $0.addingTimeInterval(-0.001) } ?? false
            if !requestDue, record.inFlightOwner == nil, let next = record.nextRefreshAt, next > current.addingTimeInterval(1),
               !outages.wasReleased(grantID) { return }
            requestedRefreshes.withLock { $0[grantID] = nil }
            guard let organisation = configuration.organisation(named: record.key.organisation), organisation.enabled else {
                let transitions = try await store.setStatus(
                    .disabled, ofGrants: [grantID], message: "the organisation is disabled or not in the configuration",
                    failure: nil, nextRefreshAt: nil, now: current)
                transitions.filter(\.changed).forEach { log($0) }
                return
            }
            guard record.status.isScheduled || record.status == .disabled || record.inFlightOwner != nil else { return }
            if case .park(let failure) = pauses.decide(grantID, of: organisation.name) {
                try await park(grantID, failure: failure, now: current)
                return
            }
            let tokenEndpoint = endpoint(of: organisation)
            look.reachedDecision = true
            if case .wait(let outage, let next) = outages.decide(grantID, endpoint: tokenEndpoint, accessExpiresAt: record.accessExpiresAt, now: current) {
                try await waitForEndpoint(record, outage: outage, nextRefreshAt: next, scheduleNext: false, now: current)
                return
            }
            let target = RefreshTarget(
                tokenURL: organisation.tokenURL,
                credentials: organisation.clientCredentials,
                nrtadminCheck: NrtadminCheckTarget(
                    organisation: organisation.name, configuredCustomerID: organisation.customerID,
                    discoveryURL: organisation.discoveryURL,
                    membersURL: { organisation.nrtadminMembersURL(customerID: $0, library: $1) }))
            let started = ContinuousClock.now
            let attemptNumber = waiters.beginAttempt()
            let attempt = try await refresher.refresh(grantID: grantID, at: target)
            if let transition = attempt.transition {
                waiters.finish(
                    .written(status: transition.current, refreshed: attempt.failure == nil && transition.current == .authorized),
                    grantID: grantID, attempt: attemptNumber)
            }
            if !attempt.skipped { RefreshMetrics.record(attempt, organisation: organisation.name, took: ContinuousClock.now - started) }
            if storeHealth.succeeded() {
                logger.notice("the database can be written again: refreshes go on")
            }
            guard !attempt.skipped else {
                // Another process (a CLI refresh) holds the grant, or it changed meanwhile. Look again
                // once that claim's lease has run out, so a CLI that died mid-refresh does not leave
                // the grant unscheduled until the next restart; an entry no longer due is dropped then.
                scheduler.schedule(grantID, at: now().addingTimeInterval(refresher.claimLease))
                return
            }
            let pause = pauses.record(grantID, of: organisation.name, failure: attempt.failure)
            look.attempted = true
            let released = outages.wasReleased(grantID)
            let outageStep = outages.record(
                grantID, endpoint: tokenEndpoint, failure: attempt.failure, accessExpiresAt: record.accessExpiresAt, now: now())
            if let transition = attempt.transition {
                // A status change is always its own line (debug when an endpoint outage has its own);
                // a refresh-token warning is one more.
                if transition.changed || attempt.followedInterruptedRefresh {
                    log(transition, failure: attempt.failure, interrupted: attempt.followedInterruptedRefresh,
                        level: Self.outageIsQuiet(outageStep, released: released) ? .debug : nil)
                } else if attempt.refreshTokenWarning == nil {
                    let key = transition.key
                    let next = attempt.nextRefreshAt.map { ", next in \(max(0, Int($0.timeIntervalSince(now()).rounded()))) s" } ?? ""
                    logger.log(
                        level: routineRefreshLevel, "refreshed \(key.kind.rawValue) \(key.subject) of \(key.organisation)\(next)",
                        metadata: GrantLogMetadata.fields(key, status: transition.current))
                }
                if let warning = attempt.refreshTokenWarning {
                    logger.warning("\(transition.key.organisation) \(transition.key.kind.rawValue) \(transition.key.subject): \(warning)",
                                   metadata: GrantLogMetadata.fields(transition.key, status: transition.current))
                }
            }
            if pause.park {
                try await park(grantID, failure: attempt.failure, now: now())
            } else if try await follow(outageStep, of: record, now: now()) {
                // Held by its endpoint's outage (or its probe): scheduled there.
            } else if let next = attempt.nextRefreshAt {
                scheduler.schedule(grantID, at: next)
            }
            if !pause.wake.isEmpty {
                logger.info("\(organisation.name): client credentials accepted again; resuming \(pause.wake.count) paused grants")
                let policy = RefreshPolicy(settings: configuration.refresh)
                let start = now()
                scheduler.schedule(pause.wake.enumerated().map {
                    GrantScheduler.Entry(deadline: policy.startupDeadline(forOverdueIndex: $0.offset, now: start), grantID: $0.element)
                })
            }
        } catch {
            // A database error (disk full, file read-only): nothing is sent that could not be recorded,
            // the grant keeps its stored state, and it is looked at again with backoff. Said once.
            let failures = storeHealth.failed()
            waiters.finish(
                .notRecorded("the database cannot be written (\(error)); the grant keeps its stored state: see journalctl -u imanage-tokend"),
                grantID: grantID, attempt: nil)
            let fields = known.map { GrantLogMetadata.fields($0.key, status: $0.status) } ?? [:]
            if failures == 1 {
                logger.error(
                    "the database cannot be written: \(error); refreshes are held back until it can, as no request is sent whose outcome could not be recorded",
                    metadata: fields)
            } else {
                logger.debug("could not refresh grant #\(grantID): \(error)", metadata: fields)
            }
            let delay = refresher.policy.retryDelay(afterFailures: min(failures, 30), retryAfter: nil, unitRandom: .random(in: 0..<1))
            scheduler.schedule(grantID, at: now().addingTimeInterval(delay))
        }
    }

    /// Holds a grant behind its organisation's probe: status `client_error`, no timer until woken.
    private func park(_ grantID: Int64, failure: RefreshFailure?, now: Date) async throws {
        let transitions = try await store.setStatus(
            .clientError, ofGrants: [grantID],
            message: "paused: the organisation's client id or secret was refused; one grant keeps checking",
            failure: failure, nextRefreshAt: nil, now: now)
        transitions.filter(\.changed).forEach { log($0) }
    }

    func log(
        _ transition: StatusTransition, failure: RefreshFailure? = nil, interrupted: Bool = false, reason: String? = nil,
        level: Logger.Level? = nil
    ) {
        let what = transition.key.kind == .library ? "library \(transition.key.subject)" : "user \(transition.key.subject)"
        var message = "\(transition.key.organisation) \(what): \(transition.previous?.rawValue ?? "new") → \(transition.current.rawValue)"
        if interrupted { message += " (after an interrupted refresh)" }
        if let reason { message += ": \(reason)" }
        if let failure { message += ": \(failure)" }
        logger.log(
            level: level ?? GrantLogMetadata.level(of: transition.current), "\(message)",
            metadata: GrantLogMetadata.fields(transition.key, status: transition.current, failure: failure))
    }
}
