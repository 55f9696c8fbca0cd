import IManageWire

/// HTML escaping: every value put into a page goes through `HTML.escape`.
enum HTML {
    /// Escapes text for element content and attribute values (``HTMLText/escape(_:)``).
    static func escape(_ text: String) -> String { HTMLText.escape(text) }

    /// A hidden field carrying the session's CSRF token.
    static func csrfField(_ token: String) -> String {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(escape(token))\">"
    }
}
