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
        String(decoding: bytes(records: records, organisations: organisations, now: now), as: UTF8.self)
    }

    /// The same as bytes, as the scrape sends them: one buffer per family, no string per sample.
    public func bytes(records: [GrantRecord], organisations: [(name: String, enabled: Bool)], now: Date) -> [UInt8] {
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
            let status = rules.effectiveStatus(of: record, organisationEnabled: enabled[record.key.organisation] == true, now: now)
            counts[record.key.organisation, default: [:]][status, default: 0] += 1
            guard perGrant else { continue }
            let labels = Array(Self.labels([("organisation", record.key.organisation), ("kind", record.key.kind.rawValue), ("id", record.key.subject)]).utf8)
            if let expiry = record.accessExpiresAt { access.add(labels, expiry.timeIntervalSince1970) }
            if let expiry = record.refreshTokenExpiresAt { refreshToken.add(labels, expiry.timeIntervalSince1970) }
            if status.isScheduled, let next = record.nextRefreshAt { nextRefresh.add(labels, next.timeIntervalSince1970) }
            for (candidate, suffix) in Self.statusSuffixes {
                statuses.add(labels, suffix: suffix, candidate == status ? 1 : 0)
            }
        }
        var byStatus = Family("imanage_tokend_grants", "Grants by organisation and status (as status shows it).")
        for (organisation, ofStatus) in counts.sorted(by: { $0.key < $1.key }) {
            for status in GrantStatus.allCases {
                byStatus.add(Array(Self.labels([("organisation", organisation), ("status", status.rawValue)]).utf8), Double(ofStatus[status] ?? 0))
            }
        }
        return (perGrant ? [access, refreshToken, nextRefresh, statuses, byStatus] : [byStatus]).flatMap(\.bytes)
    }

    /// `,status="…"` for each status, made once.
    static let statusSuffixes: [(GrantStatus, [UInt8])] = GrantStatus.allCases.map { ($0, Array(",status=\"\($0.rawValue)\"".utf8)) }

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

    /// One metric family: its HELP and TYPE lines and its samples, as bytes.
    struct Family {
        private let name: [UInt8]
        private(set) var bytes: [UInt8]

        init(_ name: String, _ help: String, type: String = "gauge") {
            self.name = Array(name.utf8)
            bytes = Array("# HELP \(name) \(help)\n# TYPE \(name) \(type)\n".utf8)
        }

        /// `name{labels suffix} value`; empty labels give `name value`.
        mutating func add(_ labels: [UInt8], suffix: [UInt8] = [], _ value: Double) {
            bytes.append(contentsOf: name)
            if !labels.isEmpty || !suffix.isEmpty {
                bytes.append(UInt8(ascii: "{"))
                bytes.append(contentsOf: labels)
                bytes.append(contentsOf: suffix)
                bytes.append(UInt8(ascii: "}"))
            }
            bytes.append(UInt8(ascii: " "))
            if value == 0 { bytes.append(UInt8(ascii: "0")) } else if value == 1 { bytes.append(UInt8(ascii: "1")) } else {
                bytes.append(contentsOf: Self.number(value).utf8)
            }
            bytes.append(UInt8(ascii: "\n"))
        }

        var text: String { String(decoding: bytes, as: UTF8.self) }

        static func number(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        }
    }
}
