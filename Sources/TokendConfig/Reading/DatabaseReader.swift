import Foundation

/// Reads `database` (an SQLite file, or a `postgresql://` URL of a database several daemons share)
/// and, for PostgreSQL, `database_password_file`.
struct DatabaseReader {
    let root: ConfigTable
    let files: ConfigFiles
    let defaultDatabase: String

    struct Database {
        /// The SQLite path (absolute), or the PostgreSQL URL as `PostgresURL` writes it.
        var setting: String
        var postgres: PostgresURL?
        var password: (path: String, secret: Secret)?
    }

    func read() -> Database? {
        let written = root.contains("database") ? root.string("database", expected: "a file path, or a postgresql:// URL, in quotes") : nil
        if root.contains("database"), written == nil { return nil }
        guard let text = written?.value, PostgresURL.isPostgres(text) else {
            if root.contains("database_password_file") {
                root.problem("database_password_file",
                    "is only for a PostgreSQL database (database = \"postgresql://…\"): remove it, SQLite needs no password")
                return nil
            }
            guard let text = written?.value else { return Database(setting: files.absolutePath(defaultDatabase)) }
            guard !text.isEmpty else {
                root.problem("database", "is empty: expected a file path in quotes (or remove it for the default \(defaultDatabase))")
                return nil
            }
            return Database(setting: files.absolutePath(text))
        }
        let url: PostgresURL
        do {
            url = try PostgresURL(parsing: text)
        } catch {
            root.problem("database", error.message)
            return nil
        }
        var database = Database(setting: url.description, postgres: url)
        if root.contains("database_password_file") {
            let expected = "the name of a file that holds the database user's password (chmod 600)"
            guard let name = root.string("database_password_file", expected: expected) else { return nil }
            files.ledger.record(key: "database_password_file", name: name.value, files: files)
            // Reports (`status`, `history`) load no secrets, but this one they need to reach the
            // database at all: it is read whenever this user can read it, as the key is.
            if !files.readsSecrets {
                if let (path, bytes) = try? files.readSecret(named: name.value), var text = String(validating: bytes, as: UTF8.self) {
                    while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
                    database.password = (path, Secret(text))
                }
                return database
            }
            do {
                database.password = try files.readSecretText(named: name.value)
            } catch {
                root.problem("database_password_file", error.message)
                return nil
            }
        }
        return database
    }
}
