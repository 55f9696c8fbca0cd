/// The issuer identifier of an authorization server (RFC 9207 §2, RFC 8414): an `http(s)` URL
/// without query or fragment. Two are the same server when they are equal after the scheme and
/// host are lower-cased, the scheme's default port dropped and a trailing `/` of the path removed.
///
/// Plain Swift, no Foundation: it reads `iss`, a value the browser brings, and is fuzzed.
public enum IssuerIdentifier {
    /// The longest issuer read; a longer one is not an issuer of ours.
    public static let maximumLength = 2048

    /// `text` in its compared form (`scheme://host[:port][path]`), or nil when it is not an
    /// `http`/`https` URL with a host and without user info, query or fragment.
    public static func normalised(_ text: String) -> String? {
        guard text.utf8.count <= maximumLength, let separator = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<separator.lowerBound].lowercased()
        let defaultPort: String
        switch scheme {
        case "https": defaultPort = "443"
        case "http": defaultPort = "80"
        default: return nil
        }
        let rest = text[separator.upperBound...]
        guard !rest.contains(where: { $0 == "?" || $0 == "#" || $0 == "@" || $0 == "\\" || $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } == true })
        else { return nil }
        let authority = rest.prefix { $0 != "/" }
        var path = rest[authority.endIndex...]
        if path.hasSuffix("/") { path = path.dropLast() }

        let host: Substring
        var port: Substring = ""
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                port = after.dropFirst()
            }
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = parts[0]
            if parts.count == 2 { port = parts[1] }
            guard !host.contains(":") else { return nil }
        }
        guard !host.isEmpty, host != "[]" else { return nil }
        var result = scheme + "://" + host.lowercased()
        if !port.isEmpty {
            guard port.count <= 5, port.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(port), number <= 65535 else { return nil }
            if String(number) != defaultPort { result += ":" + String(number) }
        } else if authority.hasSuffix(":") {
            return nil
        }
        return result + path
    }

    /// Whether `presented` names the same server as `expected` (both normalised); a value that
    /// does not read as an issuer never matches.
    public static func same(_ presented: String, as expected: String) -> Bool {
        guard let presented = normalised(presented), let expected = normalised(expected) else { return false }
        return presented == expected
    }
}
