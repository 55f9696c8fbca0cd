import Crypto
import Foundation
import TokendPolicy

/// Encrypts tokens at rest with AES-256-GCM. The grant's identity and the field name are the
/// associated data, so a ciphertext copied to another row or another column fails to open.
/// Public so every store (SQLite, PostgreSQL) seals exactly alike: a migrated ciphertext still opens.
public struct TokenCipher: Sendable {
    public enum Field: String { case refreshToken = "refresh_token", accessToken = "access_token" }

    private let key: SymmetricKey

    public init(keyBytes: [UInt8]) throws(StoreError) {
        guard keyBytes.count == 32 else { throw .wrongKeySize(bytes: keyBytes.count) }
        key = SymmetricKey(data: keyBytes)
    }

    public func seal(_ token: String, for grant: GrantKey, field: Field) throws -> [UInt8] {
        let box = try AES.GCM.seal(Data(token.utf8), using: key, authenticating: Self.associatedData(grant, field))
        guard let combined = box.combined else { throw StoreError.cannotDecrypt(grant: grant.description) }
        return [UInt8](combined)
    }

    public func open(_ ciphertext: [UInt8], for grant: GrantKey, field: Field) throws(StoreError) -> String {
        do {
            let box = try AES.GCM.SealedBox(combined: ciphertext)
            let plain = try AES.GCM.open(box, using: key, authenticating: Self.associatedData(grant, field))
            return String(decoding: plain, as: UTF8.self)
        } catch {
            throw .cannotDecrypt(grant: grant.description)
        }
    }

    /// A short, stable identifier of a token for logs and status ("rt:1a2b3c4d"), never the token.
    public static func fingerprint(_ token: String) -> String {
        let digest = SHA256.hash(data: Data(token.utf8))
        return digest.prefix(4).map { String(format: "%02x", $0) }.joined()
    }

    private static func associatedData(_ grant: GrantKey, _ field: Field) -> Data {
        Data("imanage-tokend/v1\u{0}\(grant.organisation)\u{0}\(grant.kind.rawValue)\u{0}\(grant.subject)\u{0}\(field.rawValue)".utf8)
    }
}
