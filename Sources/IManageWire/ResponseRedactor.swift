import Foundation

/// Makes a server's answer safe to keep and show: anything that may be a token, code,
/// secret or password is replaced, and the result is short.
public enum ResponseRedactor {
    public static let excerptLength = 300

    /// Values shorter than this are not hidden by `excerpt(_:hiding:)`: they are not real tokens,
    /// and replacing every occurrence of a short word would garble the excerpt.
    public static let minimumHiddenLength = 8

    /// A redacted, printable excerpt of `body`, or `nil` when it is empty. Every occurrence of
    /// a value in `hiding` (the tokens the answer was read to carry) is replaced too, wherever
    /// it stands: the patterns of `redact` cannot see a token under an escaped key name, after
    /// a space or comma, or repeated under another key.
    public static func excerpt(_ body: [UInt8], hiding secrets: [String] = []) -> String? {
        guard !body.isEmpty else { return nil }
        var text = String(decoding: body.prefix(4096), as: UTF8.self)
        for secret in secrets where secret.count >= minimumHiddenLength {
            text = text.replacingOccurrences(of: secret, with: "[redacted]")
        }
        var result = redact(text)
        result = String(result.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
        if result.count > excerptLength { result = String(result.prefix(excerptLength)) + "…" }
        return result
    }

    /// Replaces the values of JSON or form fields whose names suggest a secret, and every long
    /// run of token-like characters, with `[redacted]`.
    public static func redact(_ text: String) -> String {
        var out = text
        // "access_token": "…", refresh_token=…, "code":"…", password, secret, assertion
        let fieldPattern = #"(?i)("?[a-z_]*(token|code|secret|password|assertion)[a-z_]*"?\s*[:=]\s*"?)([^"&,\s}]+)"#
        if let regex = try? NSRegularExpression(pattern: fieldPattern) {
            out = regex.stringByReplacingMatches(
                in: out, range: NSRange(out.startIndex..., in: out), withTemplate: "$1[redacted]")
        }
        // Any long opaque run (JWTs, random tokens) even outside a named field.
        if let regex = try? NSRegularExpression(pattern: #"[A-Za-z0-9._~+/=-]{24,}"#) {
            out = regex.stringByReplacingMatches(
                in: out, range: NSRange(out.startIndex..., in: out), withTemplate: "[redacted]")
        }
        return out
    }
}
