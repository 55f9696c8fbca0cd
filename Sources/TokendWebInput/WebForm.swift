import Foundation

/// `application/x-www-form-urlencoded` as browsers send it (forms and query strings), read
/// strictly: a repeated name, a malformed escape or an overlong value is refused.
public enum WebForm {
    public static let maximumNameLength = 64
    public static let maximumValueLength = 4096

    /// The fields of `text`; empty pairs (`a=1&&b=2`) are skipped, a name without `=` has the value "".
    public static func parse(_ text: String) throws(FormError) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), name.utf8.count <= maximumNameLength,
                  let value = decode(parts.count > 1 ? parts[1] : "") else {
                throw .malformed
            }
            guard value.utf8.count <= maximumValueLength else { throw .tooLong(name: name) }
            guard fields[name] == nil else { throw .repeated(name: name) }
            fields[name] = value
        }
        return fields
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// Encodes pairs for a query string; only unreserved characters stay as they are.
    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// `text` percent-encoded so that it is one name or value of a query string.
    public static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
