import Foundation

/// A secret that passed through the session, with what it is: a failure names the kind and
/// the place, never the value.
struct KnownSecret: Sendable, Hashable {
    let kind: String
    let value: String

    /// Characters of a token that must not appear on their own either: a prefix is as good as a
    /// leak to someone guessing, and the contract allows only a short hash to identify a token.
    static let prefixLength = 12

    /// Long random values (tokens, codes, verifiers) are also searched for by their prefix;
    /// short human-chosen ones (passwords, the demo client secret) only whole.
    var prefix: String? { value.count >= 32 ? String(value.prefix(Self.prefixLength)) : nil }

    /// How a failure shows the secret: its first four characters and its length.
    var hint: String { "\(kind) \"\(value.prefix(4))…\" (\(value.count) chars)" }
}

/// Where a known secret was found.
struct SecretFinding: Sendable, CustomStringConvertible {
    let place: String
    let secret: KnownSecret
    /// True when only the prefix was found.
    let partial: Bool

    var description: String { "\(partial ? "the first \(KnownSecret.prefixLength) characters of " : "")\(secret.hint) in \(place)" }
}

/// Searches texts and files for known secrets, whole or by prefix.
struct SecretScanner: Sendable {
    let secrets: [KnownSecret]

    init(_ secrets: [KnownSecret]) {
        self.secrets = Array(Set(secrets.filter { !$0.value.isEmpty })).sorted { ($0.kind, $0.value) < ($1.kind, $1.value) }
    }

    func findings(in text: String, place: String) -> [SecretFinding] {
        findings(in: Data(text.utf8), place: place)
    }

    func findings(in bytes: Data, place: String) -> [SecretFinding] {
        secrets.compactMap { secret in
            if bytes.range(of: Data(secret.value.utf8)) != nil { return SecretFinding(place: place, secret: secret, partial: false) }
            if let prefix = secret.prefix, bytes.range(of: Data(prefix.utf8)) != nil {
                return SecretFinding(place: place, secret: secret, partial: true)
            }
            return nil
        }
    }
}
