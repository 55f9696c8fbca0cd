import Foundation

/// `[notify]`: who is told when a library or user needs a person, and how often at most.
public struct NotifyConfig: Sendable {
    public static let defaultWebhookTimeout: TimeInterval = 10
    public static let defaultRepeatAfter: TimeInterval = 60 * 60
    public static let defaultCommandTimeout: TimeInterval = 60

    /// The command to run (an absolute path, then its arguments), never through a shell.
    public var command: [String]?
    /// Where the signed JSON is POSTed.
    public var webhookURL: URL?
    /// The HMAC-SHA256 key of `X-Tokend-Signature`; empty when secrets were not read.
    public var webhookSecret: Secret?
    /// The secret's file, as read (in `$CREDENTIALS_DIRECTORY` or at its path).
    public var webhookSecretFile: String?
    public var webhookTimeout: TimeInterval = defaultWebhookTimeout
    /// How long the command may run before it is stopped and counted as failed.
    public var commandTimeout: TimeInterval = defaultCommandTimeout
    /// A subject is announced at most once per this interval per status (a flapping grant).
    public var repeatAfter: TimeInterval = defaultRepeatAfter

    public init(command: [String]? = nil, webhookURL: URL? = nil, webhookSecret: Secret? = nil, webhookSecretFile: String? = nil) {
        self.command = command
        self.webhookURL = webhookURL
        self.webhookSecret = webhookSecret
        self.webhookSecretFile = webhookSecretFile
    }
}

extension TokendConfiguration {
    /// The page a person opens to put a grant right: the Tracker page for a library, the Authorise
    /// page for a user; `nil` for an organisation (its configuration must be fixed, not a grant).
    public func reauthorizeURL(organisation: String, kind: String) -> URL? {
        let base = publicURL.appending(encodedPath: "/organisations/\(PathSegment.encode(organisation))")
        switch kind {
        case "library": return base.appending(encodedPath: "/tracker")
        case "user": return base.appending(encodedPath: "/authorise")
        default: return nil
        }
    }
}
