import IManageWire

/// What iManage's redirect to `/oauth/callback` asks for, read from its query string alone
/// (before the state is looked up): the pure part of the callback route, kept free of HTTP so
/// that it can be tested and fuzzed on its own.
///
/// Its description never shows the code or the state.
public enum CallbackQuery: Sendable, Equatable {
    /// No `state`, or an empty one: the link did not come from a sign-in started here.
    case noState
    /// iManage refused: its `error` code, cut to `maximumErrorLength` characters.
    case refused(state: String, error: String)
    /// An authorisation code to exchange.
    case code(state: String, code: String)
    /// A state but neither a code nor an error.
    case neither(state: String)

    /// The longest error code passed on to the page.
    public static let maximumErrorLength = 64

    /// Reads the query string of a callback request (without the `?`).
    public static func read(_ query: String) throws(FormError) -> CallbackQuery {
        decide(try WebForm.parse(query))
    }

    /// The decision for already decoded fields: the state first, then an error, then a code.
    public static func decide(_ fields: [String: String]) -> CallbackQuery {
        guard let state = fields["state"], !state.isEmpty else { return .noState }
        if let error = fields["error"] { return .refused(state: state, error: String(error.prefix(maximumErrorLength))) }
        guard let code = fields["code"], !code.isEmpty else { return .neither(state: state) }
        return .code(state: state, code: code)
    }

    /// The query's decision and its `iss` parameter (RFC 9207), from one reading of the query:
    /// `issuer` is nil when `iss` is absent, and the value as sent (perhaps empty) when present.
    /// Compare it with ``IssuerIdentifier/same(_:as:)``.
    public static func readWithIssuer(_ query: String) throws(FormError) -> (decision: CallbackQuery, issuer: String?) {
        let fields = try WebForm.parse(query)
        return (decide(fields), fields["iss"])
    }

    /// The state to look up, when there is one.
    public var state: String? {
        switch self {
        case .noState: nil
        case .refused(let state, _), .code(let state, _), .neither(let state): state
        }
    }
}

extension CallbackQuery: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    // The code and the state are one-time secrets: they never show in interpolation or `dump`.
    public var description: String {
        switch self {
        case .noState: "CallbackQuery.noState"
        case .refused: "CallbackQuery.refused(<redacted>)"
        case .code: "CallbackQuery.code(<redacted>)"
        case .neither: "CallbackQuery.neither(<redacted>)"
        }
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .enum) }
}
