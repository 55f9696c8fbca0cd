import Foundation
import TokendPolicy

/// The database's key check value: a constant sealed with the key, kept in `store_meta`, so a
/// wrong `key_file` is found when the database is opened, before anything is written with it
/// (a daemon started with another key would otherwise seal new tokens under it and lose the old).
public enum KeyCheck {
    public static let name = "key_check"
    private static let plaintext = "imanage-tokend key check v1"
    /// The associated data of the key check: a grant identity no real grant can have.
    private static let grant = GrantKey(organisation: "\u{0}key-check", kind: .library, subject: "\u{0}")

    /// The key check value of `cipher`'s key, as stored.
    public static func sealed(with cipher: TokenCipher) throws -> [UInt8] {
        try cipher.seal(plaintext, for: grant, field: .refreshToken)
    }

    /// Whether `sealed` (a stored key check value) opens with `cipher`: the key is the database's.
    public static func opens(_ sealed: [UInt8], with cipher: TokenCipher) -> Bool {
        (try? cipher.open(sealed, for: grant, field: .refreshToken)) == plaintext
    }

    /// Checks `cipher` against the stored value. A database without one gets one when `writing`
    /// (after a stored token, if any, proved the key right: databases from before the check).
    static func verify(_ cipher: TokenCipher, _ db: SQLiteConnection, writing: Bool) throws(StoreError) {
        do {
            let stored = try db.prepare("SELECT value FROM store_meta WHERE name = ?").bind(name)
            if try stored.step(), let sealed = stored.bytes(0) {
                guard (try? cipher.open(sealed, for: grant, field: .refreshToken)) == plaintext else {
                    throw StoreError.wrongKey(path: db.path)
                }
                return
            }
            let sample = try db.prepare("""
                SELECT organisation, kind, subject, refresh_token FROM grants WHERE refresh_token IS NOT NULL LIMIT 1
                """)
            if try sample.step(), let sealed = sample.bytes(3) {
                let key = GrantKey(
                    organisation: sample.string(0) ?? "", kind: GrantKind(rawValue: sample.string(1) ?? "") ?? .user,
                    subject: sample.string(2) ?? "")
                guard (try? cipher.open(sealed, for: key, field: .refreshToken)) != nil else {
                    throw StoreError.wrongKey(path: db.path)
                }
            }
            guard writing else { return }
            try db.prepare("INSERT OR IGNORE INTO store_meta (name, value) VALUES (?, ?)").bind(name, try sealed(with: cipher)).run()
        } catch let error as StoreError {
            throw error
        } catch {
            throw .sqlite(code: -1, message: "\(error)", path: db.path)
        }
    }
}

