import Foundation
import TokendConfig
import TokendPolicy
import TokendStore

/// What one notification tells, as the command's environment and as the webhook's JSON: names,
/// statuses, a reason and the page to open. Never a token, a code or a secret.
public struct NotificationFacts: Sendable, Equatable, Codable {
    /// The outbox row's id: the same on every retry, so a receiver can drop a repeat.
    public var notificationID: Int64
    public var event: String
    public var organisation: String
    public var kind: String
    public var id: String
    public var status: String
    public var previousStatus: String
    public var reason: String
    public var authorizedByEmail: String
    public var reauthorizeURL: String
    /// When the status changed (RFC 3339, UTC).
    public var at: String

    enum CodingKeys: String, CodingKey {
        case notificationID = "notification_id", event, organisation, kind, id, status
        case previousStatus = "previous_status", reason, authorizedByEmail = "authorized_by_email"
        case reauthorizeURL = "reauthorize_url", at
    }

    public init(_ pending: PendingNotification, configuration: TokendConfiguration) {
        notificationID = pending.id
        event = pending.event.rawValue
        organisation = pending.organisation
        kind = pending.kind
        id = pending.subject
        status = pending.status.rawValue
        previousStatus = pending.previousStatus?.rawValue ?? ""
        reason = pending.reason
        authorizedByEmail = pending.authorizedByEmail ?? ""
        reauthorizeURL = configuration.reauthorizeURL(organisation: pending.organisation, kind: pending.kind)?.absoluteString ?? ""
        at = pending.createdAt.formatted(.iso8601)
    }

    /// The command's whole environment: these, and a fixed `PATH` (nothing of the daemon's own,
    /// which may hold `CREDENTIALS_DIRECTORY` or other secrets' whereabouts).
    public var environment: [String: String] {
        [
            "TOKEND_NOTIFICATION_ID": String(notificationID),
            "TOKEND_EVENT": event,
            "TOKEND_ORGANISATION": organisation,
            "TOKEND_KIND": kind,
            "TOKEND_ID": id,
            "TOKEND_STATUS": status,
            "TOKEND_PREVIOUS_STATUS": previousStatus,
            "TOKEND_REASON": reason,
            "TOKEND_AUTHORIZED_BY_EMAIL": authorizedByEmail,
            "TOKEND_REAUTHORIZE_URL": reauthorizeURL,
            "TOKEND_AT": at,
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ]
    }

    /// The webhook's body: the same facts as JSON, keys sorted (stable bytes for the signature).
    public func jsonBody() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
