import Foundation

/// `application/x-www-form-urlencoded` as browsers send it (forms and query strings), read
/// strictly: a repeated name, a malformed escape or an overlong value is refused.
enum FormCoding {
    static let maximumValueLength = 4096

    static func parse(_ text: String) throws(WebFailure) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), name.utf8.count <= 64, let value = decode(parts.count > 1 ? parts[1] : "") else {
                throw WebFailure.badRequest("The request's parameters are malformed.")
            }
            guard value.utf8.count <= maximumValueLength else { throw WebFailure.badRequest("The parameter \(name) is too long.") }
            guard fields[name] == nil else { throw WebFailure.badRequest("The parameter \(name) appears more than once.") }
            fields[name] = value
        }
        return fields
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// Encodes pairs for a query string; only unreserved characters stay as they are.
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
