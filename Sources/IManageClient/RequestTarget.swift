import Foundation
import IManageWire
import TokendPolicy

/// A URL the client may send credentials to: http or https with a host, and plain http only
/// to a loopback address (development and tests), so a token never crosses a network in clear.
struct RequestTarget: Sendable {
    let url: URL
    /// The host as written in the URL, for messages.
    let host: String
    let port: Int?

    static func check(_ url: URL) -> Result<RequestTarget, RefreshFailure> {
        let scheme = url.scheme?.lowercased()
        guard let host = url.host, !host.isEmpty, scheme == "https" || scheme == "http" else {
            let shown = ResponseRedactor.redact(String(url.absoluteString.prefix(200)))
            return .failure(RefreshFailure(
                .transient, detail: "the URL \(shown) is not an http(s) URL with a host; check the configuration"))
        }
        if scheme == "http" && !isLoopback(host) {
            return .failure(RefreshFailure(
                .transient,
                detail: "refusing to send credentials to \(host) over plain http; iManage URLs must use https "
                    + "(http is allowed for loopback addresses only)"))
        }
        return .success(RequestTarget(url: url, host: host, port: url.port))
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" || bare.hasSuffix(".localhost") { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
