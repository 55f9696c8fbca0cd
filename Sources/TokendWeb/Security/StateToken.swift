import Crypto
import Foundation

/// The 16 random bytes of a `state`: what the daemon remembers of a spent one.
struct StateID: Hashable, Sendable {
    let high: UInt64
    let low: UInt64
}

/// Makes and checks the OAuth `state` values: `base64url(random[16] ‖ seconds[8] ‖ MAC[16])`.
///
/// The random part makes a state unguessable; the time (seconds since 1970, big-endian) lets a
/// late callback be told "expired" without anything kept in memory; the MAC (HMAC-SHA256 under a
/// key derived from the token key, cut to 16 bytes) tells a state this daemon made (or another
/// daemon with the same `key_file`) from a forged one.
struct StateToken: Sendable {
    private let key: SymmetricKey
    static let length = 54

    init(tokenKey: [UInt8]) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: tokenKey), salt: Array("imanage-tokend".utf8),
            info: Array("oauth state mac v1".utf8), outputByteCount: 32)
    }

    /// A new state, made at `createdAt`.
    func make(createdAt: Date) -> String {
        var bytes = RandomToken.bytes(16)
        let seconds = UInt64(bitPattern: Int64(createdAt.timeIntervalSince1970.rounded(.down)))
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: seconds >> (56 - 8 * $0)) }
        return Base64URL.encode(bytes + mac(bytes))
    }

    /// The random part and the time of `state`, when this key made it.
    func read(_ state: String) -> (id: StateID, createdAt: Date)? {
        guard state.utf8.count == Self.length, let data = Base64URL.decode(state), data.count == 40 else { return nil }
        let bytes = Array(data)
        let body = Array(bytes[0..<24])
        guard ConstantTime.equals(mac(body), bytes[24..<40]) else { return nil }
        func number(_ range: Range<Int>) -> UInt64 { bytes[range].reduce(0) { $0 << 8 | UInt64($1) } }
        let seconds = Int64(bitPattern: number(16..<24))
        return (StateID(high: number(0..<8), low: number(8..<16)), Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    private func mac(_ body: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: body, using: key).prefix(16))
    }
}
