import Foundation
import TokendPolicy
import TokendStore

/// What `status` and `GET /v1/status` report: every organisation, library and user with its
/// status, sorted so what needs a person comes first, and one attention level for the exit code.
public struct StatusReport: Sendable, Equatable {
    public var generatedAt: Date
    public var daemon: DaemonState
    public var organisations: [OrganisationSummary]
    /// Libraries, then users: each sorted by attention (critical first), then organisation and id.
    public var libraries: [StatusEntry]
    public var users: [StatusEntry]
    /// Problems of the whole installation (the daemon is not running, a listener it could not open), in words.
    public var notes: [String]
    /// Notifications queued in the database and not yet delivered (`[notify]`).
    public var notificationsPending = 0
    /// Token endpoints the running daemon holds down (`showEndpointsDown`).
    public var endpointsDown: [EndpointOutage] = []

    /// The level of the whole report: the worst entry, and `critical` when grants are waiting for
    /// a daemon that is not running (nothing refreshes them: their access tokens will run out).
    public var attention: Attention {
        var worst = (libraries + users).map(\.attention).max() ?? .ok
        if daemonNeeded { worst = max(worst, .critical) }
        if daemon.running && !daemon.missingListeners.isEmpty { worst = max(worst, .warning) }
        if !endpointsDown.isEmpty { worst = max(worst, .warning) }
        return worst
    }

    /// Some grant of an enabled organisation needs refreshing, and no daemon runs.
    var daemonNeeded: Bool {
        !daemon.running && (libraries + users).contains { $0.status.isScheduled }
    }

    /// Builds the report from the stored grants.
    ///
    /// - Parameters:
    ///   - organisations: the configured organisations and whether each is enabled.
    ///   - filter: a named library or user with no grant appears as `unauthorized`
    ///     (never authorised, or revoked), when the filter names its organisation.
    ///   - customers: each organisation's iManage customer, configured or pinned.
    public init(
        records: [GrantRecord], organisations: [(name: String, enabled: Bool)], daemon: DaemonState,
        filter: ReportFilter = ReportFilter(), rules: StatusRules = StatusRules(), now: Date = Date(),
        customers: [String: OrganisationCustomer] = [:]
    ) {
        generatedAt = now
        self.daemon = daemon
        let enabled = Dictionary(organisations.map { ($0.name, $0.enabled) }, uniquingKeysWith: { first, _ in first })
        var entries = records.filter(filter.matches).map {
            rules.entry(for: $0, organisationEnabled: enabled[$0.key.organisation] ?? false, daemon: daemon, now: now)
        }
        if let organisation = filter.organisation, entries.isEmpty {
            if let library = filter.library {
                entries.append(rules.missingEntry(for: .library(library, of: organisation), organisationEnabled: enabled[organisation] ?? false))
            } else if let user = filter.user {
                entries.append(rules.missingEntry(for: .user(user, of: organisation), organisationEnabled: enabled[organisation] ?? false))
            }
        }
        entries.sort(by: Self.needsAPersonFirst)
        libraries = entries.filter { $0.key.kind == .library }
        users = entries.filter { $0.key.kind == .user }

        var names = organisations.map(\.name)
        for entry in entries where !names.contains(entry.key.organisation) { names.append(entry.key.organisation) }
        if let wanted = filter.organisation { names = names.filter { $0 == wanted } }
        self.organisations = names.map { name in
            let own = entries.filter { $0.key.organisation == name }
            return OrganisationSummary(
                name: name, enabled: enabled[name] ?? false, configured: enabled[name] != nil,
                libraries: own.filter { $0.key.kind == .library }.count, users: own.filter { $0.key.kind == .user }.count,
                attention: own.map(\.attention).max() ?? .ok,
                customerID: customers[name]?.id, customerPinned: customers[name]?.pinned ?? false)
        }
        notes = []
        if daemonNeeded, let database = daemon.sharedDatabase {
            notes.append("no daemon is running on \(database) (none has beaten its heartbeat within the claim lease): "
                + "nothing is refreshed, and access tokens run out (systemctl start imanage-tokend on a node)")
        } else if daemonNeeded {
            notes.append("the daemon is not running: nothing is refreshed, and access tokens run out (systemctl start imanage-tokend)")
        }
        if daemon.running { notes += daemon.missingListeners.map(\.note) }
    }

    /// Critical first, then warnings, then the rest; within a level by organisation, kind and id.
    static func needsAPersonFirst(_ a: StatusEntry, _ b: StatusEntry) -> Bool {
        if a.attention != b.attention { return a.attention > b.attention }
        if a.key.organisation != b.key.organisation { return a.key.organisation < b.key.organisation }
        if a.key.kind != b.key.kind { return a.key.kind == .library }
        return a.key.subject < b.key.subject
    }
}

extension OrganisationCustomer {
    /// Each organisation's customer: its configured `customer_id`, else the one pinned in `pins`.
    public static func of(
        configured: [(name: String, customerID: String?)], pins: [PinnedCustomer]
    ) -> [String: OrganisationCustomer] {
        var result: [String: OrganisationCustomer] = [:]
        for pin in pins { result[pin.organisation] = OrganisationCustomer(id: pin.customerID, pinned: true) }
        for (name, customerID) in configured {
            if let customerID { result[name] = OrganisationCustomer(id: customerID, pinned: false) }
        }
        return result
    }
}
