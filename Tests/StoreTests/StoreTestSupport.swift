import Foundation
import TokendPolicy
import TokendTestSupport
@testable import TokendStore

/// A fresh database file in its own temporary directory, removed by `cleanUp()`.
struct TemporaryDatabase {
    let directory: URL
    let path: String
    let key: [UInt8]

    init() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-store-\(UUID().uuidString)")
        path = directory.appendingPathComponent("tokend.sqlite").path
        key = (0..<32).map { _ in UInt8.random(in: 0...255) }
    }

    func open(_ mode: SQLiteGrantStore.Mode = .readWrite) throws -> SQLiteGrantStore {
        try SQLiteGrantStore(path: path, key: key, mode: mode)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: directory) }

    /// Makes the database look like one written before the key check value existed.
    func removeKeyCheck() throws {
        let connection = try SQLiteConnection(path: path, readOnly: false)
        try connection.execute("DELETE FROM store_meta")
    }

    /// Every byte of the database and its WAL, as the disk holds them.
    func rawBytes() throws -> Data {
        var data = Data()
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
            data.append(try Data(contentsOf: URL(fileURLWithPath: path + suffix)))
        }
        return data
    }
}

/// Alice's authorisation of `key` at `now`: refresh token of a year, access token of 30 minutes, next refresh in 15.
func authorization(_ key: GrantKey, refresh: String, access: String, now: Date = Date()) -> NewAuthorization {
    .seeded(key, refreshToken: refresh, accessToken: access, nextRefreshAt: now.addingTimeInterval(900), message: "authorised by Alice Admin", now: now)
}
