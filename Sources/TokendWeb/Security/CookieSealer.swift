import Crypto
import Foundation

/// Seals small values that the browser keeps for the daemon (a sign-in in progress, the
/// failure to show after a callback): AES-GCM, so the browser can neither read nor change them,
/// bound to associated text (a value sealed for one `state` does not open for another).
///
/// Like ``SessionSigner``, the key is derived with HKDF from the token encryption key
/// (`key_file`), one independent key per `purpose`: nothing more to provision, and replacing
/// `key_file` ends what was sealed with the old one.
struct CookieSealer: Sendable {
    private let key: SymmetricKey

    init(tokenKey: [UInt8], purpose: String) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: tokenKey), salt: Array("imanage-tokend".utf8),
            info: Array(purpose.utf8), outputByteCount: 32)
    }

    /// `base64url(nonce ‖ ciphertext ‖ tag)`, or nil when sealing failed (it does not with a 32-byte key).
    func seal(_ plaintext: Data, boundTo associated: String) -> String? {
        guard let box = try? AES.GCM.seal(plaintext, using: key, authenticating: Data(associated.utf8)),
              let combined = box.combined else { return nil }
        return Base64URL.encode(combined)
    }

    /// The plaintext of `value`, when it was sealed with this key for `associated` and not changed since.
    func open(_ value: String?, boundTo associated: String) -> Data? {
        guard let value, value.utf8.count < 4096, let combined = Base64URL.decode(value),
              let box = try? AES.GCM.SealedBox(combined: combined),
              let plaintext = try? AES.GCM.open(box, using: key, authenticating: Data(associated.utf8))
        else { return nil }
        return plaintext
    }
}
