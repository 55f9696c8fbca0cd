import ArgumentParser
import Foundation
import IManageClient
import Logging
import TokendAPI
import TokendConfig
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

        var logger = Logger(label: "imanage-tokend")
        logger.logLevel = .warning
        let client = try IManageHTTPClient(settings: IManageClientSettings(configuration), logger: logger)
        let now = Date()
        // The client is shut down on every path before the process ends.
        let verified: (key: GrantKey, identity: IManageIdentity, tokens: TokenResponse)
        do {
            verified = try await verify(refreshToken, of: organisation, with: client)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
        let (key, identity, tokens) = verified

        let policy = RefreshPolicy(settings: configuration.refresh)
        let access = IssuedToken(token: tokens.accessToken, issuedAt: now, expiresAt: now.addingTimeInterval(tokens.expiresIn))
        let store = try GrantStore(path: configuration.database, key: configuration.key.reveal())
        let name = identity.name ?? identity.userID
        try await store.saveAuthorisation(NewAuthorisation(
            key: key,
            identity: AuthorisedIdentity(
                userID: identity.userID, email: identity.email ?? "", name: name, customerID: identity.customerID),
            refreshToken: IssuedToken(
                token: tokens.refreshToken ?? refreshToken, issuedAt: now, expiresAt: policy.refreshTokenExpiry(issuedAt: now)),
            accessToken: access,
            nextRefreshAt: policy.nextRefresh(issuedAt: now, expiresAt: access.expiresAt, unitRandom: .random(in: 0..<1)),
            nrtadminCheckedAt: key.kind == .library ? now : nil,
            message: "imported, authorised by \(name)"))
        print("imported \(key.kind.rawValue) \(key.subject) of \(orgName), authorised by \(name) (\(identity.userID))")
        await tellDaemon(about: key, configuration: configuration)
    }

    /// One refresh and a discovery call (who the token belongs to), and for a library the
    /// NRTADMIN check: the grant's key, identity and fresh tokens, or a failure saying what to do.
    private func verify(
        _ refreshToken: String, of organisation: OrganisationConfig, with client: IManageHTTPClient
    ) async throws -> (key: GrantKey, identity: IManageIdentity, tokens: TokenResponse) {
        let orgName = organisation.name
        let credentials = organisation.clientCredentials
        let tokens: TokenResponse
        switch await client.refresh(tokenURL: organisation.tokenURL, credentials: credentials, refreshToken: refreshToken) {
        case .success(let answer): tokens = answer
        case .failure(let failure):
            let advice = switch failure.failureClass {
            case .grantDead: "the refresh token is not valid (expired, revoked or already rotated): authorise again"
            case .clientRefused: "the organisation's client id or secret was refused: check client_id and client_secret_file"
            case .transient: "iManage could not be reached or answered badly: try again later"
            }
            throw fail("the refresh token could not be verified: \(failure) — \(advice)")
        }
        let identity: IManageIdentity
        switch await client.discover(discoveryURL: organisation.discoveryURL, accessToken: tokens.accessToken) {
        case .success(let found): identity = found
        case .failure(let failure): throw fail("discovery (who the token belongs to) failed: \(failure)")
        }

        let key: GrantKey
        if let library = grant.library {
            key = .library(library, of: orgName)
            let url = organisation.nrtadminMembersURL(customerID: identity.customerID, library: library)
            switch await client.groupMembers(url: url, accessToken: tokens.accessToken) {
            case .success(let members) where members.contains(where: { $0.id.caseInsensitiveCompare(identity.userID) == .orderedSame }):
                break
            case .success:
                throw fail("\(identity.userID) is not an NRTADMIN of library \(library): import a token of one of its NRTADMINs")
            case .failure(let failure):
                throw fail("could not check the NRTADMIN group of library \(library): \(failure)")
            }
        } else {
            let wanted = grant.user ?? ""
            guard wanted.caseInsensitiveCompare(identity.userID) == .orderedSame
                || wanted.caseInsensitiveCompare(identity.email ?? "") == .orderedSame
            else {
                throw fail("the token belongs to \(identity.userID), not to \(wanted): nothing was stored")
            }
            key = .user(identity.userID, of: orgName)
        }

        return (key, identity, tokens)
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
