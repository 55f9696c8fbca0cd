import ArgumentParser
import Foundation
import TokendAPI

/// `token`: prints a currently valid access token, asked of the running daemon, for scripts.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a currently valid access token of a library or user, for scripts.",
        discussion: """
            Asks the running daemon over its token API socket (api_socket; you must be in group \
            imanage-tokend or root) and prints only the access token, for example
              curl -H "X-Auth-Token: $(imanage-tokend token --organisation acme --library ACTIVE)" …
            A token with less than 5 seconds left is never printed.

            Exit codes: 0 printed; 1 the grant has no valid access token now (its status and why on \
            stderr); 2 no such grant; 69 the daemon is not running; 77 not allowed to use the socket, or \
            the daemon's [[api_client]] rules do not allow this user; 70 an unexpected answer.
            """)

    @OptionGroup var config: ConfigOption
    @OptionGroup var grant: GrantSelection

    func validate() throws { _ = try grant.required(by: "token") }

    func run() async throws {
        let (organisation, kind, subject) = try grant.required(by: "token")
        // Without secrets: a member of the API group needs neither the key nor a client secret.
        let client = DaemonConnection(configuration: try config.load(secrets: .skip)).client
        let answer: DaemonClient.Answer
        do {
            answer = try await client.send(.GET, DaemonConnection.grantPath(organisation: organisation, kind: kind, subject: subject) + "/token")
        } catch {
            throw DaemonConnection.fail("token", error)
        }
        let object = DaemonConnection.object(answer)
        switch answer.status {
        case 200:
            guard let token = object["access_token"] as? String, !token.isEmpty else {
                printError("imanage-tokend token: the daemon answered without a token")
                throw DaemonConnection.Exit.unexpected
            }
            print(token)
        case 503:
            let status = object["status"] as? String ?? "unknown"
            printError("imanage-tokend token: \(kind.rawValue) \(subject) of \(organisation) has no valid access token (status \(status)): \(object["reason"] as? String ?? "")")
            throw DaemonConnection.Exit.notValid
        case 404:
            printError("imanage-tokend token: \(object["reason"] as? String ?? "no such grant")")
            throw DaemonConnection.Exit.noGrant
        case 403:
            throw DaemonConnection.forbidden("token", answer)
        default:
            printError("imanage-tokend token: the daemon answered HTTP \(answer.status): \(object["reason"] as? String ?? "")")
            throw DaemonConnection.Exit.unexpected
        }
    }
}
