import Crypto
import IManageWire

/// Proof Key for Code Exchange (RFC 7636), S256 only: the plain method is refused.
enum PKCE {
    /// Whether `verifier` has the form RFC 7636 §4.1 requires: 43 to 128 unreserved characters.
    static func isWellFormedVerifier(_ verifier: String) -> Bool {
        (43...128).contains(verifier.utf8.count) && verifier.utf8.allSatisfy(FormEncoding.isUnreserved)
    }

    /// Whether `challenge` can be an S256 challenge: 43 base64url characters.
    static func isWellFormedChallenge(_ challenge: String) -> Bool {
        challenge.utf8.count == 43 && challenge.utf8.allSatisfy(FormEncoding.isUnreserved)
    }

    /// The S256 challenge of a verifier: unpadded base64url of its SHA-256.
    static func challenge(forVerifier verifier: String) -> String {
        let digest = SHA256.hash(data: Array(verifier.utf8))
        var words = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &words) { output in
            for (index, byte) in digest.enumerated() { output[index] = byte }
        }
        return TokenKey(words: words).text
    }

    /// Whether `verifier` answers `challenge`.
    static func verifier(_ verifier: String, matches challenge: String) -> Bool {
        isWellFormedVerifier(verifier) && constantTimeEquals(PKCE.challenge(forVerifier: verifier), challenge)
    }
}

/// Compares two secrets without an early exit that would tell how much of them matched.
func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
    let left = Array(lhs.utf8)
    let right = Array(rhs.utf8)
    var difference = UInt8(truncatingIfNeeded: left.count ^ right.count)
    for index in 0..<min(left.count, right.count) { difference |= left[index] ^ right[index] }
    return difference == 0 && left.count == right.count
}
