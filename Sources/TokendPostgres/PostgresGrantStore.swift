import Foundation
import Logging
import PostgresNIO
import Synchronization
import TokendPolicy
import TokendStore

/// The grants, their sealed tokens and their history in one PostgreSQL database that several
/// daemons share (the SQLite store's twin: the same contract suite passes on both).
///
/// Tokens are sealed exactly as in SQLite (`TokenCipher`, the same key for every daemon of the
/// database, checked at opening against `store_meta`'s key check value). Each grant is refreshed by
/// one daemon at a time: a claim locks the row (`FOR UPDATE SKIP LOCKED`), sets an owner and a lease
/// on the database's clock, and raises the grant's `version`; the outcome is written only while
/// owner and version are still those of the claim, so a daemon paused past its lease can never
/// overwrite a newer outcome (the version is a fencing token).
public final class PostgresGrantStore: GrantStore {
    public enum Mode: Sendable {
        case readWrite, readOnly
        /// Creates or upgrades the schema without a key (`migrate` copies ciphertexts unopened).
        case schemaOnly
    }

    /// The database's URL (never its password), as error messages name it.
    public let location: String
    let client: PostgresClient
    private let running: Task<Void, Never>
    private let optionalCipher: TokenCipher?
    let outbox = NotificationOutbox()
    let logger: Logger
    /// The version each live claim of this process left on its grant: what its outcome must still find.
    let fences = Mutex<[Int64: Fence]>([:])
    /// Claims that arrive together go to the database as one batch.
    let claims = PostgresClaimBatcher()
    /// How many claim transactions this store has made (fewer than claims when they came together).
    public var claimBatchCount: Int { claims.batches.load(ordering: .relaxed) }

    /// A live claim of this process: its owner and fencing version, and the grant as it was claimed.
    struct Fence: Sendable {
        var owner: String
        var version: Int64
        var key: GrantKey
        var status: GrantStatus
    }

    private init(location: String, client: PostgresClient, running: Task<Void, Never>, cipher: TokenCipher?, logger: Logger) {
        self.location = location
        self.client = client
        self.running = running
        self.optionalCipher = cipher
        self.logger = logger
    }

    deinit { running.cancel() }

    /// Connects, brings the schema up to date (read-write; under an advisory lock) and checks the key
    /// against the database's key check value: a key that does not match throws `wrongKey` and nothing
    /// is written. `key: nil` (read-only only) serves what is not encrypted (`status`, `history`).
    public static func open(
        _ settings: PostgresConnectionSettings, key: [UInt8]?, mode: Mode = .readWrite,
        logger: Logger = Logger(label: "imanage-tokend.postgresql")
    ) async throws -> PostgresGrantStore {
        let location = settings.location
        let cipher = try key.map { (bytes) throws(StoreError) in try TokenCipher(keyBytes: bytes) }
        if mode == .readWrite, cipher == nil { throw StoreError.noKey(path: location) }
        var quiet = logger
        quiet.logLevel = .warning  // postgres-nio's debug lines would name every query
        let client = PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: quiet)
        let running = Task { await client.run() }
        let store = PostgresGrantStore(location: location, client: client, running: running, cipher: cipher, logger: quiet)
        do {
            try await checkReachable(settings, logger: quiet)
            switch mode {
            case .readWrite, .schemaOnly:
                try await store.mapErrors { try await PostgresMigrations.migrate(client, logger: quiet, database: location) }
            case .readOnly:
                try await store.checkSchema()
            }
            if let cipher { try await store.verifyKey(cipher, writing: mode == .readWrite) }
        } catch {
            running.cancel()
            throw error
        }
        return store
    }

    /// Closes the connections (the store is unusable afterwards).
    public func close() { running.cancel() }

    /// The token cipher; opened without a key, every use of it says so.
    var cipher: TokenCipher {
        get throws(StoreError) {
            guard let optionalCipher else { throw .noKey(path: location) }
            return optionalCipher
        }
    }

    // MARK: Plumbing

    /// Runs `body` in one transaction; a failure of PostgreSQL comes out as a `StoreError.database`
    /// naming the database, any other error as itself.
    @discardableResult
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await mapErrors {
            try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    let value = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return value
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }

    /// Runs one query outside a transaction (reads: each sees what is committed).
    func query(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        try await mapErrors { try await client.query(query, logger: logger) }
    }

    func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError {
            throw StoreError.database(location: location, message: PostgresErrorText.describe(error))
        } catch let error as PostgresDecodingError {
            throw StoreError.database(location: location, message: "a stored value could not be read (\(error.code)): is this imanage-tokend's database?")
        }
    }

    /// Says why the database cannot be reached, from a connection of its own (see `probe`).
    private static func checkReachable(_ settings: PostgresConnectionSettings, logger: Logger) async throws {
        do {
            try await settings.probe(logger: logger)
        } catch {
            let described = PostgresErrorText.describe(error)
            if PostgresErrorText.isCertificateRefusal(described) {
                throw StoreError.cannotOpen(
                    path: settings.location,
                    reason: "the server's TLS certificate was not accepted (\(described)): check that ca_file ("
                        + (settings.caFile ?? "not set: the system's roots") + ") holds the CA that signed it, and that the "
                        + "certificate names \(settings.url.host) (sslmode=verify-full checks both)")
            }
            throw StoreError.cannotOpen(
                path: settings.location,
                reason: "\(described) (check that PostgreSQL runs there and accepts this user from this "
                    + "machine (pg_hba.conf), database_password_file, and sslmode/ca_file)")
        }
    }

    private func checkSchema() async throws {
        let version = try await query("""
            SELECT CASE WHEN to_regclass('tokend_schema') IS NULL THEN 0 ELSE (SELECT max(version) FROM tokend_schema) END
            """).first { try $0.int(0) ?? 0 } ?? 0
        if version > PostgresMigrations.all.count {
            throw StoreError.newerSchema(path: location, found: version, known: PostgresMigrations.all.count)
        }
        if version < PostgresMigrations.all.count {
            throw StoreError.cannotOpen(
                path: location,
                reason: "the database is at schema \(version) of \(PostgresMigrations.all.count): start the daemon once to create or upgrade it")
        }
    }

    /// The key check of `KeyCheck`, on this database: a new database gets one (the first daemon's key).
    private func verifyKey(_ cipher: TokenCipher, writing: Bool) async throws {
        let name = KeyCheck.name
        try await transaction { connection in
            if writing {
                let sealed = try KeyCheck.sealed(with: cipher)
                try await connection.query(
                    "INSERT INTO store_meta (name, value) VALUES (\(name), \(sealed.bytea)) ON CONFLICT (name) DO NOTHING", logger: logger)
            }
            let stored = try await connection.query("SELECT value FROM store_meta WHERE name = \(name)", logger: logger)
                .first { try $0.bytes(0) }
            if let stored = stored ?? nil, !KeyCheck.opens(stored, with: cipher) { throw StoreError.wrongKey(path: location) }
        }
    }
}

/// What a PostgreSQL failure says, for an administrator; postgres-nio's own description is
/// deliberately vague (it could carry bound values), so the server's message and SQLSTATE are taken.
enum PostgresErrorText {
    /// The text of a TLS handshake that failed on the server's certificate (its CA, or its names).
    static func isCertificateRefusal(_ described: String) -> Bool {
        ["CERTIFICATE_VERIFY_FAILED", "failedToValidateHostname", "unableToValidateCertificate"].contains { described.contains($0) }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return "PostgreSQL said: \(message)\(state)"
            }
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }
}
