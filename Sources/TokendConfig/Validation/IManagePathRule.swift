import Foundation

/// Catches a base URL that already ends in a path the daemon appends itself, as when the full
/// endpoint from iManage's guide is pasted where its form says "your custom iManage URL":
/// `…/auth/oauth2/authorize` would be called as `…/auth/oauth2/authorize/auth/oauth2/authorize`.
enum IManagePathRule {
    /// Paths that end a base URL wrongly (compared case-insensitively).
    static let endings = ["/auth/oauth2/authorize", "/auth/oauth2/token", "/auth/oauth2", "/auth", "/api"]
    /// Paths that start iManage's own pages or API: everything from them on is not the base.
    static let starts = ["/work/api", "/work/web"]

    /// Throws why `url` (already checked by `BaseURLRule`) is not a base URL, naming the base URL to write.
    static func check(_ url: URL) throws(InvalidValue) {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return }
        let path = components.percentEncodedPath
        let lower = path.lowercased()
        var cut: String.Index?
        if let start = starts.compactMap({ lower.range(of: $0)?.lowerBound }).min() {
            cut = start
        } else if let ending = endings.first(where: { lower.hasSuffix($0) }) {
            cut = path.index(path.endIndex, offsetBy: -ending.count)
        }
        guard let cut else { return }
        let found = String(path[cut...])
        components.percentEncodedPath = String(path[..<cut])
        let base = components.url?.absoluteString ?? BaseURLRule.example
        throw InvalidValue(
            "ends in the iManage path \(found), which the daemon appends itself: give the base URL, \"\(base)\"")
    }
}
