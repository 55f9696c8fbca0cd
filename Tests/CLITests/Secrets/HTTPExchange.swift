import Foundation

/// One HTTP answer as `curl -i` printed it: status line, headers, blank line, body.
struct HTTPExchange: Sendable {
    let url: String
    let raw: String

    var status: Int {
        // Swift reads "\r\n" as one Character; Foundation's components(separatedBy:) does not.
        let statusLine = raw.components(separatedBy: "\r\n").first ?? ""
        return statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    }

    var headerLines: [Substring] {
        let head = raw.components(separatedBy: "\r\n\r\n").first ?? ""
        return head.components(separatedBy: "\r\n").dropFirst().map { Substring($0) }
    }

    func header(_ name: String) -> String? {
        headerLines.first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
            .map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
    }

    var location: String? { header("Location") }

    var body: String {
        guard let range = raw.range(of: "\r\n\r\n") else { return "" }
        return String(raw[range.upperBound...])
    }
}
