import Foundation
import TokendPolicy
import TokendStore

/// The JSON of `status --json` and `GET /v1/status`, in the contract's shape:
///
/// ```json
/// {"attention": "critical", "generated_at": "…",
///  "daemon": {"running": true, "pid": 812, "version": "0.9.0", "missing_listeners": [{"listener": "web pages", "address": "…", "reason": "…"}]},
///  "nodes": [{"name": "daemon:db1:812:1795000000", "host": "db1", "pid": 812, "last_seen_at": "…", "grants_claimed": 3, "alive": true}],
///  "notes": [], "notifications_pending": 0,
///  "endpoints_down": [{"endpoint": "https://…/auth/oauth2/token", "organisations": ["acme"], "since": "…", "last_error": "…",
///                      "error_class": "transient", "http_status": 503, "next_probe_at": "…", "failed_probes": 2, "waiting_grants": 998}],
///  "organisations": [{"name": "acme", "enabled": true, "configured": true, "libraries": 2, "users": 1, "attention": "critical"}],
///  "libraries": [{"organisation": "acme", "id": "ACTIVE", "status": "needs_reauth",
///                 "authorized_by": {"id": "ALICE", "email": "alice@example.com", "name": "Alice Admin"},
///                 "access_expires_at": "…", "next_refresh_at": null, "refresh_token_expires_at": "…",
///                 "last_refresh_at": "…", "last_error": "…", "attention": "critical", "reason": "…"}],
///  "users": [ … the same, "id" being the iManage user id … ]}
/// ```
///
/// Every key is always present; unknown values are `null`. Times are RFC 3339 UTC.
extension StatusReport: Encodable {
    enum CodingKeys: String, CodingKey {
        case attention, generatedAt = "generated_at", daemon, notes, organisations, libraries, users
        case notificationsPending = "notifications_pending"
        case endpointsDown = "endpoints_down"
        case nodes
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(attention.word, forKey: .attention)
        try container.encode(RFC3339.string(generatedAt), forKey: .generatedAt)
        try container.encode(daemon, forKey: .daemon)
        try container.encode(daemon.nodes, forKey: .nodes)
        try container.encode(notes, forKey: .notes)
        try container.encode(notificationsPending, forKey: .notificationsPending)
        try container.encode(endpointsDown.map(EndpointOutageJSON.init), forKey: .endpointsDown)
        try container.encode(organisations, forKey: .organisations)
        try container.encode(libraries, forKey: .libraries)
        try container.encode(users, forKey: .users)
    }

    /// The report as pretty, key-sorted JSON text.
    public func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

extension DaemonState: Encodable {
    enum CodingKeys: String, CodingKey { case running, pid, version, missingListeners = "missing_listeners" }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(running, forKey: .running)
        try container.encode(pid, forKey: .pid)
        try container.encode(version, forKey: .version)
        try container.encode(missingListeners, forKey: .missingListeners)
    }
}

extension OrganisationSummary: Encodable {
    enum CodingKeys: String, CodingKey {
        case name, enabled, configured, libraries, users, attention, customerID = "customer_id", customerPinned = "customer_pinned"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(enabled, forKey: .enabled)
        try container.encode(configured, forKey: .configured)
        try container.encode(libraries, forKey: .libraries)
        try container.encode(users, forKey: .users)
        try container.encode(attention.word, forKey: .attention)
        try container.encode(customerID, forKey: .customerID)
        try container.encode(customerPinned, forKey: .customerPinned)
    }
}

extension StatusEntry: Encodable {
    enum CodingKeys: String, CodingKey {
        case organisation, id, status, authorizedBy = "authorized_by", accessExpiresAt = "access_expires_at"
        case nextRefreshAt = "next_refresh_at", refreshTokenExpiresAt = "refresh_token_expires_at"
        case lastRefreshAt = "last_refresh_at", lastError = "last_error", attention, reason
    }

    enum IdentityKeys: String, CodingKey { case id, email, name }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key.organisation, forKey: .organisation)
        try container.encode(key.subject, forKey: .id)
        try container.encode(status.rawValue, forKey: .status)
        if let authorizedBy {
            var identity = container.nestedContainer(keyedBy: IdentityKeys.self, forKey: .authorizedBy)
            try identity.encode(authorizedBy.userID, forKey: .id)
            try identity.encode(authorizedBy.email, forKey: .email)
            try identity.encode(authorizedBy.name, forKey: .name)
        } else {
            try container.encodeNil(forKey: .authorizedBy)
        }
        try container.encode(RFC3339.string(accessExpiresAt), forKey: .accessExpiresAt)
        try container.encode(RFC3339.string(nextRefreshAt), forKey: .nextRefreshAt)
        try container.encode(RFC3339.string(refreshTokenExpiresAt), forKey: .refreshTokenExpiresAt)
        try container.encode(RFC3339.string(lastRefreshAt), forKey: .lastRefreshAt)
        try container.encode(lastError, forKey: .lastError)
        try container.encode(attention.word, forKey: .attention)
        try container.encode(reason, forKey: .reason)
    }
}
