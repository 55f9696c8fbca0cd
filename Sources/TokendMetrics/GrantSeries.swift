import Foundation
import TokendPolicy
import TokendReports
import TokendStore

/// The per-grant series of `/metrics`, written in the Prometheus text format at each scrape from
/// the stored grants. Hand-written rather than kept as swift-prometheus gauges: a hundred thousand
/// grants are over a million series (eight statuses each), which as gauge objects would cost
/// hundreds of megabytes and a diff against the store at every scrape; read from the store at
/// scrape time they are exact (a removed grant's series are gone at once) and cost nothing between
/// scrapes. Labels are `organisation`, `kind`, `id` (a library id or an iManage user id), never an
/// email or a name. Counters and histograms go through swift-prometheus (see ``MetricsBackend``).
public struct GrantSeries: Sendable {
    public var rules: StatusRules
    /// With `false` (`metrics_per_grant = false`), only `imanage_tokend_grants{organisation,status}`.
    public var perGrant: Bool

    public init(rules: StatusRules, perGrant: Bool) {
        self.rules = rules
        self.perGrant = perGrant
    }

    /// The series of `records`, whose organisations are enabled as `enabled` says.
    public func text(records: [GrantRecord], organisations: [(name: String, enabled: Bool)], now: Date) -> String {
        let enabled = Dictionary(organisations.map { ($0.name, $0.enabled) }, uniquingKeysWith: { first, _ in first })
        var counts: [String: [GrantStatus: Int]] = [:]
        for organisation in organisations { counts[organisation.name] = [:] }
        var access = Family("imanage_tokend_grant_access_expiry_timestamp_seconds",
                            "When the grant's access token runs out (Unix time).")
        var refreshToken = Family("imanage_tokend_grant_refresh_token_expiry_timestamp_seconds",
                                  "When the grant's refresh token is taken to expire (Unix time).")
        var nextRefresh = Family("imanage_tokend_grant_next_refresh_timestamp_seconds",
                                 "When the daemon refreshes the grant next (Unix time); absent while it waits for a person.")
        var statuses = Family("imanage_tokend_grant_status",
                              "1 for the grant's status, 0 for the others (as status shows it).")
        for record in records {
            let status = enabled[record.key.organisation] == true ? rules.effectiveStatus(of: record, now: now) : .disabled
            counts[record.key.organisation, default: [:]][status, default: 0] += 1
            guard perGrant else { continue }
            let labels = Self.labels([("organisation", record.key.organisation), ("kind", record.key.kind.rawValue), ("id", record.key.subject)])
            if let expiry = record.accessExpiresAt { access.add(labels, expiry.timeIntervalSince1970) }
            if let expiry = record.refreshTokenExpiresAt { refreshToken.add(labels, expiry.timeIntervalSince1970) }
            if status.isScheduled, let next = record.nextRefreshAt { nextRefresh.add(labels, next.timeIntervalSince1970) }
            for candidate in GrantStatus.allCases {
                statuses.add(labels + ",status=\"\(candidate.rawValue)\"", candidate == status ? 1 : 0)
            }
        }
        var byStatus = Family("imanage_tokend_grants", "Grants by organisation and status (as status shows it).")
        for (organisation, ofStatus) in counts.sorted(by: { $0.key < $1.key }) {
            for status in GrantStatus.allCases {
                byStatus.add(Self.labels([("organisation", organisation), ("status", status.rawValue)]), Double(ofStatus[status] ?? 0))
            }
        }
        return (perGrant ? [access, refreshToken, nextRefresh, statuses, byStatus] : [byStatus]).map(\.text).joined()
    }

    /// `name="value",…` with values escaped as the text format asks (backslash, quote, newline).
    static func labels(_ pairs: [(String, String)]) -> String {
        pairs.map { name, value in
            var escaped = ""
            for character in value {
                switch character {
                case "\\": escaped += "\\\\"
                case "\"": escaped += "\\\""
                case "\n": escaped += "\\n"
                default: escaped.append(character)
                }
            }
            return "\(name)=\"\(escaped)\""
        }.joined(separator: ",")
    }

    /// One metric family: its HELP and TYPE lines and its samples.
    struct Family {
        let name: String
        private var lines: String

        init(_ name: String, _ help: String, type: String = "gauge") {
            self.name = name
            lines = "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }

        mutating func add(_ labels: String, _ value: Double) {
            lines += name + "{" + labels + "} " + Self.number(value) + "\n"
        }

        var text: String { lines }

        static func number(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        }
    }
}
