import ArgumentParser
import Foundation
import TokendAPI
import TokendConfig
import TokendEngine
import TokendPolicy
import TokendReports
import TokendStore

/// `revoke`: removes a grant and its tokens and records the event, through the running daemon
/// (so it logs the change to the journal and drops the grant at once), or in the database when
/// no daemon runs.
struct RevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Remove a library's or user's grant and its tokens.",
        discussion: """
            The grant's refresh and access tokens are deleted and a status change to unauthorized is \
            recorded for history. iManage is not told (it has no documented revocation call): to cut \
            the refresh token off at iManage too, revoke it there. The library or user can be authorised \
            again at any time.

            Exit codes: 0 revoked; 2 no such grant; 69 the daemon runs but cannot be reached; \
            77 not allowed to use the socket; 1 the database could not be written.
            """)

    @OptionGroup var config: ConfigOption
    @OptionGroup var grant: GrantSelection

    func validate() throws { _ = try grant.required(by: "revoke") }

    func run() async throws {
        let (organisation, kind, subject) = try grant.required(by: "revoke")
        let configuration = try config.load()
        let what = "\(kind.rawValue) \(subject) of \(organisation)"
        let connection = DaemonConnection(configuration: configuration)
        do {
            let answer = try await connection.client.send(
                .DELETE, DaemonConnection.grantPath(organisation: organisation, kind: kind, subject: subject))
            let object = DaemonConnection.object(answer)
            switch answer.status {
            case 200:
                print("revoked \(what) (was \(object["previous_status"] as? String ?? "unknown")); its tokens are deleted")
                return
            case 404:
                printError("imanage-tokend revoke: no grant for \(what)")
                throw DaemonConnection.Exit.noGrant
            default:
                printError("imanage-tokend revoke: the daemon answered HTTP \(answer.status): \(object["reason"] as? String ?? "")")
                throw DaemonConnection.Exit.unexpected
            }
        } catch DaemonClientError.notRunning(let socket) {
            // No socket: if no daemon holds the database either, revoke in it directly.
            guard !InstanceLock.holder(database: configuration.database).running else {
                throw DaemonConnection.fail("revoke", .notRunning(socketPath: socket))
            }
        } catch let error as DaemonClientError {
            throw DaemonConnection.fail("revoke", error)
        }
        try await revokeInDatabase(configuration, organisation: organisation, kind: kind, subject: subject, what: what)
    }

    private func revokeInDatabase(
        _ configuration: TokendConfiguration, organisation: String, kind: GrantKind, subject: String, what: String
    ) async throws {
        guard StoreOpening.exists(configuration: configuration) else {
            // Never create a database just to find it empty.
            printError("imanage-tokend revoke: no grant for \(what): there is no database at \(configuration.database)")
            throw DaemonConnection.Exit.noGrant
        }
        do {
            let store = try await StoreOpening.open(configuration: configuration, mode: .readWrite)
            var key = GrantKey(organisation: organisation, kind: kind, subject: subject)
            if try await store.record(for: key) == nil, kind == .user {
                switch UserLookup.find(subject, among: try await store.records(organisation: organisation, kind: .user)) {
                case .found(let record): key = record.key
                case .none: break
                case .ambiguous(let ids):
                    printError("imanage-tokend revoke: \(UserLookup.ambiguityMessage(subject, organisation: organisation, ids: ids)); nothing was revoked")
                    throw ExitCode(64)  // EX_USAGE
                }
            }
            guard let transition = try await store.remove(key, message: "revoked by an administrator (imanage-tokend revoke)", now: Date()) else {
                printError("imanage-tokend revoke: no grant for \(what)")
                throw DaemonConnection.Exit.noGrant
            }
            print("revoked \(what) (was \(transition.previous?.rawValue ?? "unknown")); its tokens are deleted")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("imanage-tokend revoke: \(error)")
            throw ExitCode(1)
        }
    }
}
