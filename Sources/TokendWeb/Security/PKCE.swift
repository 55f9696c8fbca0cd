import Crypto

/// A PKCE pair (RFC 7636, S256): the verifier stays with the daemon, the challenge goes to iManage.
struct PKCEPair: Sendable {
    let verifier: String
    let challenge: String

    init() {
        verifier = RandomToken.make(byteCount: 32)
        challenge = Self.challenge(for: verifier)
    }

    /// `BASE64URL(SHA256(ASCII(verifier)))`.
    static func challenge(for verifier: String) -> String {
        Base64URL.encode(SHA256.hash(data: Array(verifier.utf8)))
    }
}
