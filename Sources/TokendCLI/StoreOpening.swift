import Foundation
import TokendConfig
import TokendPostgres
import TokendStore

/// Opens the configured `database`: the one place that knows which `GrantStore` implements it.
///
/// Every command that reads or writes grants opens its store here, and gets `any GrantStore`.
/// Today every `database` is an SQLite file (`SQLiteGrantStore`); a shared database
/// (`database = "postgresql://…"`, `PostgresGrantStore`) is one more case in `open` and `exists`.
/// Only the SQLite-only tools (`backup`, `rekey`) open `SQLiteGrantStore` themselves.
enum StoreOpening {
    /// What a command does with the store.
    enum Mode: Sendable {
        /// The daemon, `import`, `revoke`: reads and writes, with the key (a key that does not
        /// match the database throws `StoreError.wrongKey`, and nothing is written).
        case readWrite
        /// `status`, `history`: reads only, with the key when this user could read it, so the
        /// wrong `key_file` is told; without it only what is not encrypted can be read.
        case readOnly
        /// The metrics scrapes: reads only and never a token, so no key.
        case readOnlyWithoutKey
    }

    /// The store of `configuration.database`, opened for `mode`.
    static func open(configuration: TokendConfiguration, mode: Mode) async throws -> any GrantStore {
        if let settings = PostgresConnectionSettings(configuration: configuration) {
            let key = mode == .readOnlyWithoutKey ? nil : configuration.key?.reveal()
            return try await PostgresGrantStore.open(settings, key: key, mode: mode == .readWrite ? .readWrite : .readOnly)
        }
        return try openSQLite(path: configuration.database, key: configuration.key?.reveal(), mode: mode)
    }

    /// Whether the configured database is there at all, so a command that only changes grants
    /// (`revoke` with no daemon) never creates one just to find it empty.
    static func exists(configuration: TokendConfiguration) -> Bool {
        configuration.postgres != nil || FileManager.default.fileExists(atPath: configuration.database)
    }

    private static func openSQLite(path: String, key: [UInt8]?, mode: Mode) throws(StoreError) -> SQLiteGrantStore {
        switch mode {
        case .readWrite: try SQLiteGrantStore(path: path, key: key, mode: .readWrite)
        case .readOnly: try SQLiteGrantStore(path: path, key: key, mode: .readOnly)
        case .readOnlyWithoutKey: try SQLiteGrantStore(path: path, key: nil, mode: .readOnly)
        }
    }
}
