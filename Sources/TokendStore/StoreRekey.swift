import Foundation
import TokendPolicy

/// What `rekey` re-sealed.
public struct RekeySummary: Sendable, Equatable {
    public var grants: Int
    public var tokens: Int
}

/// Re-seals every token and the key check value of a database under a new key, in one transaction:
/// either all of it is under the new key, or (a failure, a crash in the middle) all of it is still
/// under the old one. The caller makes sure no daemon runs on the database (its instance lock).
public enum StoreRekey {
    public static func rekey(
        database path: String, oldKey: [UInt8], newKey: [UInt8],
        afterEachGrant: (Int) throws -> Void = { _ in }
    ) throws -> RekeySummary {
        guard oldKey != newKey else {
            throw StoreError.cannotOpen(path: path, reason: "the new key is the key in use: generate a new one with head -c 32 /dev/urandom")
        }
        let old = try TokenCipher(keyBytes: oldKey)
        let new = try TokenCipher(keyBytes: newKey)
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.cannotOpen(path: path, reason: "no such file (has the daemon ever run with this configuration?)")
        }
        let db = try SQLiteConnection(path: path, readOnly: false)
        try db.execute("PRAGMA synchronous = FULL")
        let version = Int(try db.scalarInt("PRAGMA user_version"))
        guard version == Migrations.all.count else {
            throw StoreError.cannotOpen(
                path: path, reason: "the database is at schema \(version) of \(Migrations.all.count): start the daemon once to upgrade it, then rekey")
        }
        return try db.transaction { () throws -> RekeySummary in
            // Inside the write transaction: the key is checked against what is rewritten.
            try KeyCheck.verify(old, db, writing: false)
            let rows = try db.prepare("SELECT id, organisation, kind, subject, refresh_token, access_token FROM grants ORDER BY id")
            var grants: [(id: Int64, key: GrantKey, refresh: [UInt8]?, access: [UInt8]?)] = []
            while try rows.step() {
                let key = GrantKey(
                    organisation: rows.string(1) ?? "", kind: GrantKind(rawValue: rows.string(2) ?? "") ?? .user, subject: rows.string(3) ?? "")
                grants.append((rows.int64(0), key, rows.bytes(4), rows.bytes(5)))
            }
            let update = try db.prepare("UPDATE grants SET refresh_token = ?, access_token = ? WHERE id = ?")
            var tokens = 0
            for (index, grant) in grants.enumerated() {
                let refresh = try grant.refresh.map { try new.seal(try old.open($0, for: grant.key, field: .refreshToken), for: grant.key, field: .refreshToken) }
                let access = try grant.access.map { try new.seal(try old.open($0, for: grant.key, field: .accessToken), for: grant.key, field: .accessToken) }
                tokens += (refresh == nil ? 0 : 1) + (access == nil ? 0 : 1)
                try update.bind(refresh, access, grant.id).run()
                try afterEachGrant(index + 1)
            }
            try db.prepare("INSERT OR REPLACE INTO store_meta (name, value) VALUES (?, ?)")
                .bind(KeyCheck.name, try KeyCheck.sealed(with: new)).run()
            return RekeySummary(grants: grants.count, tokens: tokens)
        }
    }
}
