import ArgumentParser
import Foundation
import TokendConfig
import TokendEngine
import TokendPostgres
import TokendStore

/// `migrate --from SQLITE_FILE --to postgresql://…`: moves a one-machine installation to a database
/// several daemons share.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy every grant and event of an SQLite database into an empty PostgreSQL database.",
        discussion: """
            Stop the daemon first: migrate refuses while a daemon holds the SQLite database, and holds its \
            instance lock while it copies so none starts meanwhile. Every row is copied as stored (tokens \
            stay sealed with the same key: give every daemon of the new database the same key_file), in one \
            transaction: a failure leaves the target as it was. The target must hold no grants or events. \
            Then set database = "postgresql://…" (and database_password_file) in each daemon's configuration. \
            Exit codes: 0 copied; 75 a daemon holds the SQLite database; 78 an option or file is wrong; 1 other.
            """)

    @Option(name: .customLong("from"), help: ArgumentHelp("The SQLite database to copy.", valueName: "file"))
    var source: String

    @Option(name: .customLong("to"), help: ArgumentHelp("The PostgreSQL database, postgresql://user@host:port/db?sslmode=….", valueName: "url"))
    var target: String

    @Option(help: ArgumentHelp("File holding the database user's password (mode 0600).", valueName: "file"))
    var passwordFile: String?

    @Option(help: ArgumentHelp("PEM file of the CA that signed the server's certificate (sslmode=verify-full).", valueName: "file"))
    var caFile: String?

    func run() async throws {
        let settings: PostgresConnectionSettings
        do {
            let url = try PostgresURL(parsing: target)
            let password = try passwordFile.map { path throws(StandaloneSecretFile.Problem) in try StandaloneSecretFile.readText(path).reveal() }
            let ca = try caFile.map { path throws(StandaloneSecretFile.Problem) in try StandaloneSecretFile.checkCertificate(path) }
            settings = PostgresConnectionSettings(url: url, password: password, caFile: ca)
        } catch let problem as PostgresURL.Problem {
            printError("imanage-tokend migrate: --to \(problem)")
            throw ExitCode(78)
        } catch {
            printError("imanage-tokend migrate: \(error)")
            throw ExitCode(78)
        }
        let path = (source as NSString).standardizingPath
        guard FileManager.default.fileExists(atPath: path) else {
            printError("imanage-tokend migrate: --from \(path): no such file (name the daemon's SQLite database, `database` in its configuration)")
            throw ExitCode(78)
        }
        // Held while copying: a daemon started meanwhile would refresh grants whose copies then go stale.
        let lock: InstanceLock
        do {
            lock = try InstanceLock(database: path)
        } catch {
            printError("imanage-tokend migrate: \(error); stop it (systemctl stop imanage-tokend) and run migrate again")
            throw ExitCode(75)
        }
        defer { withExtendedLifetime(lock) {} }
        do {
            let export = try SQLiteExport(path: path)
            let store = try await PostgresGrantStore.open(settings, key: nil, mode: .schemaOnly)
            defer { store.close() }
            let copied = try await SQLiteToPostgres.copy(from: export, to: store)
            let grants = copied.rows["grants"] ?? 0
            let events = copied.rows["events"] ?? 0
            print("""
                copied \(grants) grant\(grants == 1 ? "" : "s"), \(events) event\(events == 1 ? "" : "s"), \
                \(copied.rows["organisations"] ?? 0) customer pins and \(copied.rows["notifications"] ?? 0) pending notifications \
                from \(path) to \(settings.location)
                the tokens are sealed with the key this database had: give every daemon of \(settings.location) that key_file; \
                then set database = "\(settings.location)" in their configuration and start them. \(path) is left as it was.
                """)
        } catch {
            printError("imanage-tokend migrate: \(error)")
            throw ExitCode(1)
        }
    }
}
