import Foundation
import IManageWire

/// The rule for every URL of the configuration (`public_url` and the organisations' base URLs):
/// absolute, `https` unless the host is loopback, no user or password, no query or fragment,
/// a path prefix allowed, trailing slashes removed.
enum BaseURLRule {
    static let example = "https://dms.example.com"

    /// The normalised URL of `text`, or why it is refused. Messages never repeat the value,
    /// which might carry a password.
    static func check(_ text: String) throws(InvalidValue) -> URL {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw InvalidValue("is empty: expected an absolute URL like \(example)") }
        guard let components = URLComponents(string: trimmed), let rawScheme = components.scheme else {
            throw InvalidValue("is not an absolute URL: expected something like \(example)")
        }
        let scheme = rawScheme.lowercased()
        guard scheme == "https" || scheme == "http" else {
            throw InvalidValue("must start with https:// (like \(example))")
        }
        guard let host = components.percentEncodedHost, !host.isEmpty else {
            throw InvalidValue("has no host name: expected something like \(example)")
        }
        guard components.percentEncodedUser == nil && components.percentEncodedPassword == nil else {
            throw InvalidValue("must not contain a user name or password; secrets are never inline")
        }
        guard components.percentEncodedQuery == nil && components.percentEncodedFragment == nil else {
            throw InvalidValue("must not have a query (?…) or fragment (#…): give the base URL only, like \(example)")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw InvalidValue("has port \(port): a port is 1 to 65535")
        }
        guard scheme == "https" || IPAddress.isLoopback(host: host) else {
            throw InvalidValue(
                "uses http:// on a host that is not loopback: https is required (http is allowed only for localhost, 127.0.0.0/8 and ::1)")
        }
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        let port = components.port.map { ":\($0)" } ?? ""
        guard let url = URL(string: "\(scheme)://\(host)\(port)\(path)") else {
            throw InvalidValue("is not a valid URL: expected something like \(example)")
        }
        return url
    }

    /// The scheme, host and port of `url`, without path: the default Endpoint URL.
    static func origin(of url: URL) -> URL {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url }
        components.percentEncodedPath = ""
        return components.url ?? url
    }
}

extension URL {
    /// This URL with `encodedPath` (already percent-encoded, starting with `/`) appended to its path.
    func appending(encodedPath: String) -> URL {
        guard let url = URL(string: absoluteString + encodedPath) else {
            preconditionFailure("a checked base URL plus a percent-encoded path is always a URL")
        }
        return url
    }
}

/// Percent-encoding of one path segment: everything but the unreserved characters `A-Z a-z 0-9 - . _ ~`.
enum PathSegment {
    static func encode(_ segment: String) -> String {
        FormEncoding.encodeComponent(segment)
    }
}
