import Foundation

/// `application/x-www-form-urlencoded` as a browser sends it (only unreserved characters unescaped).
public func formEncode(_ fields: [(String, String)]) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return fields.map { name, value in
        let encodedName = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
        let encodedValue = value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
        return "\(encodedName)=\(encodedValue)"
    }.joined(separator: "&")
}

/// The query parameters of a URL, decoded.
public func queryItems(of url: String) -> [String: String] {
    var result: [String: String] = [:]
    for item in URLComponents(string: url)?.queryItems ?? [] { result[item.name] = item.value ?? "" }
    return result
}

/// The name/value pairs of `<input type="hidden">` fields in a page, HTML entities decoded.
public func hiddenFields(in page: String) -> [(String, String)] {
    let pattern = #/<input type="hidden" name="([^"]*)" value="([^"]*)">/#
    return page.matches(of: pattern).map { (unescapeHTML(String($0.1)), unescapeHTML(String($0.2))) }
}

/// The five entities the pages escape, decoded (`&amp;` last, so `&amp;lt;` stays `&lt;`).
public func unescapeHTML(_ text: String) -> String {
    text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
        .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        .replacingOccurrences(of: "&amp;", with: "&")
}

/// The text of a page without tags, whitespace collapsed, entities decoded: what a person reads.
public func visibleText(_ html: String) -> String {
    let withoutTags = html.replacing(#/<[^>]*>/#, with: " ")
    return unescapeHTML(withoutTags).split(whereSeparator: \.isWhitespace).joined(separator: " ")
}
