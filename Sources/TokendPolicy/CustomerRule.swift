/// Which iManage customer an organisation is: the rule that keeps one firm's people out of
/// another firm's organisation when both sign in at the same host with the same application.
public enum CustomerRule {
    /// What an authorisation that `/api` says belongs to `reported` comes to.
    public enum Decision: Sendable, Equatable {
        /// The organisation is this customer (configured, or pinned before).
        case matches
        /// Nothing is configured or pinned yet: this authorisation pins `reported`.
        case pins(String)
        /// The organisation is another customer: store nothing.
        case refused(expected: String)
    }

    /// The decision for a person or token of customer `reported`, in an organisation configured
    /// as `configured` (`customer_id`), or else pinned as `pinned` by its first authorisation.
    /// A configured customer wins over a pin (the administrator may correct a wrong pin that way).
    public static func decide(reported: String, configured: String?, pinned: String?) -> Decision {
        guard let expected = configured ?? pinned else { return .pins(reported) }
        return reported == expected ? .matches : .refused(expected: expected)
    }

    /// The sentence a person (and the journal) reads when the customers differ.
    public static func mismatchMessage(organisation: String, expected: String, reported: String) -> String {
        "you signed in to iManage customer \(reported); this organisation (\(organisation)) is customer \(expected): "
            + "sign in with an account of this firm's iManage, or use your own firm's organisation; nothing was stored"
    }
}
