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
            """)

    @OptionGroup var config: ConfigOption
    @OptionGroup var grant: GrantSelection
    @Option(name: .long, help: ArgumentHelp("File holding the refresh token, or - for standard input.", valueName: "file"))
    var refreshTokenFile: String

    func validate() throws {
        if grant.organisation == nil || (grant.library == nil && grant.user == nil) {
            throw ValidationError("import needs --organisation and one of --library or --user")
        }
    }

    func run() async throws {
        let configuration = try config.load()
        guard let orgName = grant.organisation, let organisation = configuration.organisation(named: orgName) else {
            throw fail("no organisation '\(grant.organisation ?? "")' in \(configuration.path)")
        }
        guard organisation.enabled else { throw fail("organisation '\(orgName)' is disabled (enabled = false)") }
        let refreshToken = try readToken()
        // Opened (and its key checked) before the token is spent on a refresh.
        let store = try openStore(configuration)

        var logger = Logger(label: "imanage-tokend")
        logger.logLevel = .warning
        let client = try IManageHTTPClient(settings: IManageClientSettings(configuration), logger: logger)
        let record: GrantRecord
        // The client is shut down on every path before the process ends.
        do {
            record = try await verifyAndStore(refreshToken, of: organisation, store: store, policy: RefreshPolicy(settings: configuration.refresh), client: client)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
        let who = record.authorisedBy.map { "\($0.name) (\($0.userID))" } ?? "?"
        print("imported \(record.key.kind.rawValue) \(record.key.subject) of \(orgName), authorised by \(who)")
        await tellDaemon(about: record.key, configuration: configuration)
    }

    /// One refresh, then the admission every new grant goes through: who the token belongs to, the
    /// organisation's iManage customer, for a library the NRTADMIN check, then the write.
    private func verifyAndStore(
        _ refreshToken: String, of organisation: OrganisationConfig, store: GrantStore, policy: RefreshPolicy, client: IManageHTTPClient
    ) async throws -> GrantRecord {
        let tokens: TokenResponse
        switch await client.refresh(tokenURL: organisation.tokenURL, credentials: organisation.clientCredentials, refreshToken: refreshToken) {
        case .success(let answer): tokens = answer
        case .failure(let failure):
            let advice = switch failure.failureClass {
            case .grantDead: "the refresh token is not valid (expired, revoked or already rotated): authorise again"
            case .clientRefused: "the organisation's client id or secret was refused: check client_id and client_secret_file"
            case .transient: "iManage could not be reached or answered badly: try again later"
            }
            throw fail("the refresh token could not be verified: \(failure) — \(advice)")
        }
        let admission = GrantAdmission(store: store, client: client, policy: policy)
        let subject: GrantAdmission.Subject = grant.library.map { .library($0) } ?? .user(named: grant.user)
        do {
            return try await admission.admit(
                tokens, presentedRefreshToken: refreshToken, for: subject, of: organisation,
                message: { "imported, authorised by \($0.name ?? $0.userID)" })
        } catch {
            throw fail("\(error)")
        }
    }

    /// The database, opened for writing; a key that does not match it is a configuration problem (78).
    private func openStore(_ configuration: TokendConfiguration) throws -> GrantStore {
        do {
            return try GrantStore(path: configuration.database, key: configuration.key?.reveal())
        } catch StoreError.wrongKey(let path) {
            printError("imanage-tokend import: \(StoreError.wrongKey(path: path))")
            throw ExitCode(78)
        }
    }

    /// Asks a running daemon to schedule the new grant now, so no SIGHUP is needed. The grant is
    /// stored whatever the answer; a daemon that is not running schedules it when it starts.
    private func tellDaemon(about key: GrantKey, configuration: TokendConfiguration) async {
        let client = DaemonClient(socketPath: configuration.apiSocket)
        let path = DaemonConnection.grantPath(organisation: key.organisation, kind: key.kind, subject: key.subject) + "/schedule"
        do {
            let answer = try await client.send(.POST, path)
            if answer.status == 200 {
                print("the running daemon has scheduled it")
            } else {
                printError("imanage-tokend import: the daemon answered HTTP \(answer.status); run systemctl reload imanage-tokend to have it scheduled")
            }
        } catch DaemonClientError.notRunning {
            print("the daemon is not running; it schedules this grant when it starts")
        } catch {
            printError("imanage-tokend import: could not tell the daemon (\(error)); run systemctl reload imanage-tokend to have it scheduled")
        }
    }

    private func readToken() throws -> String {
        let data: Data?
        if refreshTokenFile == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: refreshTokenFile)
        }
        guard let data else { throw fail("cannot read the file given to --refresh-token-file (give a path, or - for standard input)") }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, token.utf8.count <= 8192, !token.contains(where: \.isWhitespace) else {
            throw fail("the file given to --refresh-token-file does not hold one refresh token (empty, too long, or several words)")
        }
        return token
    }

    private func fail(_ message: String) -> ExitCode {
        printError("imanage-tokend import: \(message)")
        return ExitCode(1)
    }
}
