import IManageWire

/// `application/x-www-form-urlencoded` as browsers send it (forms and query strings), read
/// strictly by ``FormEncoding`` with the pages' limits: a repeated name, a malformed escape or
/// an overlong value is refused.
public enum WebForm {
    public static let maximumNameLength = 64
    public static let maximumValueLength = 4096
    /// What the pages read: short names, values up to 4 KiB, any number of them (the request's
    /// size is capped before).
    public static let limits = FormLimits(maximumNameLength: maximumNameLength, maximumValueLength: maximumValueLength)

    /// The fields of `text`; empty pairs (`a=1&&b=2`) are skipped, a name without `=` has the value "".
    public static func parse(_ text: String) throws(FormError) -> [String: String] {
        try FormEncoding.parse(text, limits: limits)
    }

    /// Encodes pairs for a query string; only unreserved characters stay as they are.
    public static func encode(_ pairs: [(String, String)]) -> String {
        FormEncoding.encode(pairs)
    }

    /// `text` percent-encoded so that it is one name or value of a query string.
    public static func escape(_ text: String) -> String {
        FormEncoding.encodeComponent(text)
    }
}
