import ArgumentParser
import Foundation
import IManageClient
import Logging
import TokendAPI
import TokendConfig
import TokendEngine
import TokendPolicy
import TokendStore

/// `import`: brings in an existing refresh token, verified at once.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Bring in an existing refresh token for a library or a user.",
        discussion: """
            The token is read from FILE (- for standard input), never from the command line where ps \
            would show it. It is verified at once with one refresh and a discovery call (who it belongs \
            to); for a library, that person must be an NRTADMIN of it. Only then is the grant stored, \
            replacing any earlier grant of that library or user. A running daemon is told over its token API \
            socket and schedules it at once (if it cannot be reached, systemctl reload imanage-tokend does the \
            same). With refresh-token rotation on, verifying spends the \
            token given: if the import is then refused, get a fresh token before trying again.

            Bulk: --from FILE (- for standard input) reads JSON lines \
            {"organisation": "acme", "library": "ACTIVE" | "user": "ALICE", "refresh_token": "…"}, \
            verifies each as above, several at a time (--concurrency), and prints one result line per \
            input line, in order, never the token: "line 3: imported library ACTIVE of acme, authorised \
            by …" or "line 4: refused: why" (--json: one JSON object per line). The running daemon is \
            told once at the end. Exit 0 when every line was imported, 1 when any was refused.

            Examples:
              imanage-tokend import --organisation acme --library ACTIVE --refresh-token-file token.txt
              imanage-tokend import --from grants.jsonl --concurrency 16
            """)

    @OptionGroup var config: ConfigOption
    @OptionGroup var grant: GrantSelection
    @Option(name: .long, help: ArgumentHelp("File holding the refresh token, or - for standard input.", valueName: "file"))
    var refreshTokenFile: String?

    @Option(name: .long, help: ArgumentHelp("Bulk: a file of JSON lines (organisation, library or user, refresh_token), or -.", valueName: "file"))
    var from: String?

    @Option(help: ArgumentHelp("Bulk: how many tokens are verified at once (1 to 64).", valueName: "count"))
    var concurrency = 8

    @Flag(help: "Bulk: print each line's result as a JSON object.")
    var json = false

    func validate() throws {
        if from != nil {
            if grant.organisation != nil || grant.library != nil || grant.user != nil || refreshTokenFile != nil {
                throw ValidationError("--from reads organisation, library or user and refresh_token from each line: give none of --organisation, --library, --user, --refresh-token-file with it")
            }
            guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 64") }
            return
        }
        if grant.organisation == nil || (grant.library == nil && grant.user == nil) {
            throw ValidationError("import needs --organisation and one of --library or --user (or --from FILE for many)")
        }
        if refreshTokenFile == nil { throw ValidationError("import needs --refresh-token-file FILE (- for standard input)") }
    }

    func run() async throws {
        let configuration = try config.load()
        if let from {
            try await BulkImport(source: from, concurrency: concurrency, json: json).run(configuration, command: self)
            return
        }
        guard let orgName = grant.organisation, let organisation = configuration.organisation(named: orgName) else {
            throw fail("no organisation '\(grant.organisation ?? "")' in \(configuration.path)")
        }
        guard organisation.enabled else { throw fail("organisation '\(orgName)' is disabled (enabled = false)") }
        let refreshToken = try readToken()
        // Opened (and its key checked) before the token is spent on a refresh.
        let store = try await openStore(configuration)

        var logger = Logger(label: "imanage-tokend")
        logger.logLevel = .warning
        let client = try IManageHTTPClient(settings: IManageClientSettings(configuration), logger: logger)
        let record: GrantRecord
        // The client is shut down on every path before the process ends.
        do {
            let verification = ImportVerification(
                client: client, admission: GrantAdmission(store: store, client: client, policy: RefreshPolicy(settings: configuration.refresh)))
            let subject: GrantAdmission.Subject = grant.library.map { .library($0) } ?? .user(named: grant.user)
            switch await verification.importToken(refreshToken, for: subject, of: organisation) {
            case .success(let stored): record = stored
            case .failure(let refusal): throw fail(refusal.description)
            }
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
        let who = record.authorizedBy.map { "\($0.name) (\($0.userID))" } ?? "?"
        print("imported \(record.key.kind.rawValue) \(record.key.subject) of \(orgName), authorised by \(who)")
        await tellDaemon(about: record.key, configuration: configuration)
    }

    /// The database, opened for writing; a key that does not match it is a configuration problem (78).
    func openStore(_ configuration: TokendConfiguration) async throws -> any GrantStore {
        do {
            let store = try await StoreOpening.open(configuration: configuration, mode: .readWrite)
            // A re-import that ends a `needs_reauth` queues its recovery notice; the daemon sends it.
            if let notify = configuration.notify { store.enableNotifications(repeatAfter: notify.repeatAfter) }
            return store
        } catch StoreError.wrongKey(let path) {
            printError("imanage-tokend import: \(StoreError.wrongKey(path: path))")
            throw ExitCode(78)
        }
    }

    /// Asks a running daemon to schedule the new grant now, so no SIGHUP is needed. The grant is
    /// stored whatever the answer; a daemon that is not running schedules it when it starts.
    private func tellDaemon(about key: GrantKey, configuration: TokendConfiguration) async {
        switch await DaemonConnection.schedule([key], socket: configuration.apiSocket) {
        case .scheduled: print("the running daemon has scheduled it")
        case .notRunning: print("the daemon is not running; it schedules this grant when it starts")
        case .failed(let why): printError("imanage-tokend import: \(why); run systemctl reload imanage-tokend to have it scheduled")
        }
    }

    private func readToken() throws -> String {
        let data: Data?
        if refreshTokenFile == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: refreshTokenFile ?? "")
        }
        guard let data else { throw fail("cannot read the file given to --refresh-token-file (give a path, or - for standard input)") }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard Self.isOneToken(token) else {
            throw fail("the file given to --refresh-token-file does not hold one refresh token (empty, too long, or several words)")
        }
        return token
    }

    /// A refresh token as a file or a line may hold it: one word of printable text, at most 8 KiB.
    static func isOneToken(_ token: String) -> Bool {
        !token.isEmpty && token.utf8.count <= 8192 && !token.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }
    }

    func fail(_ message: String) -> ExitCode {
        printError("imanage-tokend import: \(message)")
        return ExitCode(1)
    }
}
