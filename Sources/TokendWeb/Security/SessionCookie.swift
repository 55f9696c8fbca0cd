import Crypto
import Foundation

/// Who is signed in to the pages of one organisation, carried in a signed cookie.
///
/// `me` sessions come from a person's own authorisation; `tracker` sessions from an NRTADMIN's
/// sign-in on the Tracker page, with the libraries found where they are NRTADMIN at that moment
/// (their tokens are discarded; only this list and who they are remain).
struct WebSession: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable {
        case me
        case tracker

        var cookieName: String { self == .me ? "tokend_me" : "tokend_tracker" }
        /// How long a session lasts.
        var lifetime: TimeInterval { self == .me ? 12 * 3600 : 3600 }
    }

    var kind: Kind
    var organisation: String
    var userID: String
    var name: String
    var email: String
    var customerID: String
    /// Tracker sessions: the libraries where the person is NRTADMIN, in iManage's order.
    var libraries: [String]
    /// The CSRF token every form of this session carries.
    var csrf: String
    /// Seconds since 1970 after which the session is refused.
    var expires: Int64
}

/// Seals and opens session cookies: `base64url(JSON) "." base64url(HMAC-SHA256)`.
///
/// The MAC key is derived with HKDF from the token encryption key (`key_file`) rather than kept
/// in a file of its own: nothing more to provision or protect, the AES key itself is never used
/// for another purpose (HKDF with its own `info` gives an independent key), and replacing
/// `key_file` ends every session, as it should.
struct SessionSigner: Sendable {
    private let key: SymmetricKey

    init(tokenKey: [UInt8]) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: tokenKey), salt: Array("imanage-tokend".utf8),
            info: Array("web session cookie v1".utf8), outputByteCount: 32)
    }

    func seal(_ session: WebSession) -> String {
        let payload = Base64URL.encode((try? JSONEncoder().encode(session)) ?? Data())
        return payload + "." + mac(payload)
    }

    /// The session in `value`, when its MAC is right, it has not expired and it belongs to `organisation`.
    func open(_ value: String?, kind: WebSession.Kind, organisation: String, now: Date) -> WebSession? {
        guard let value, value.utf8.count < 8192 else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, ConstantTime.equals(Array(mac(String(parts[0])).utf8), Array(parts[1].utf8)),
              let json = Base64URL.decode(parts[0]),
              let session = try? JSONDecoder().decode(WebSession.self, from: json)
        else { return nil }
        guard session.kind == kind, session.organisation == organisation,
              Double(session.expires) > now.timeIntervalSince1970 else { return nil }
        return session
    }

    private func mac(_ payload: String) -> String {
        Base64URL.encode(HMAC<SHA256>.authenticationCode(for: Array(payload.utf8), using: key))
    }
}
