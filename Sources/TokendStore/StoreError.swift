import TokendPolicy

/// What can go wrong with the database or the key, said so an administrator knows what to do.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case sqlite(code: Int32, message: String, path: String)
    /// A shared database (PostgreSQL) refused or failed a query; `location` never holds a password.
    case database(location: String, message: String)
    case newerSchema(path: String, found: Int, known: Int)
    case wrongKeySize(bytes: Int)
    /// A token could not be decrypted: a different key, or a ciphertext not of this grant.
    case cannotDecrypt(grant: String)
    case grantNotFound(grant: String)
    /// Another process (or an earlier run of this one) holds the refresh of this grant.
    case refreshInFlight(grant: String, owner: String)
    /// The claim on a refresh was lost before its outcome could be written.
    case claimLost(grant: String)
    /// The key does not open the database's key check value: another key wrote this database.
    case wrongKey(path: String)
    /// Opened without the key, and asked for something encrypted (or for writing).
    case noKey(path: String)
    /// The organisation is pinned to (or configured as) another iManage customer than the one reported.
    case otherCustomer(organisation: String, expected: String, reported: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason) where path.hasPrefix("postgresql://"):
            // A shared database's reason says what to check; there is no file or directory.
            "cannot open the database \(path): \(reason)"
        case let .cannotOpen(path, reason):
            "cannot open the database \(path): \(reason) (check the path in `database` and that the directory is writable by the daemon's user)"
        case let .sqlite(code, message, path):
            "database \(path): \(message) (SQLite code \(code))"
        case let .database(location, message):
            "database \(location): \(message)"
        case let .newerSchema(path, found, known):
            "database \(path) has schema version \(found), newer than this imanage-tokend knows (\(known)): upgrade imanage-tokend or restore an older database"
        case let .wrongKeySize(bytes):
            "the token key has \(bytes) bytes, it must have exactly 32: generate one with `head -c 32 /dev/urandom > token.key && chmod 600 token.key`"
        case let .cannotDecrypt(grant):
            "the tokens of \(grant) cannot be decrypted: key_file is not the key this database was written with, or the row was tampered with"
        case let .grantNotFound(grant):
            "no grant for \(grant)"
        case let .refreshInFlight(grant, owner):
            "a refresh of \(grant) is already in flight (\(owner)); try again in a few seconds"
        case let .claimLost(grant):
            "the refresh of \(grant) was taken over or the grant was removed while it ran"
        case let .wrongKey(path):
            "key_file is not the key the database \(path) was written with (its key check value does not open): "
                + "put back the right key file (a backup of it); nothing was written"
        case let .noKey(path):
            "the database \(path) was opened without key_file, which this needs: run it as the daemon's user or root"
        case let .otherCustomer(organisation, expected, reported):
            CustomerRule.mismatchMessage(organisation: organisation, expected: expected, reported: reported)
        }
    }
}
