import ArgumentParser
import Foundation
import TokendAPI
import TokendPolicy
import TokendReports

/// `refresh`: asks the running daemon to refresh a grant now, and says how it went.
struct RefreshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh",
        abstract: "Ask the running daemon to refresh a library's or user's access token now.",
        discussion: """
            The daemon refreshes at once, or when minimum_interval_seconds since the grant's last \
            refresh has passed; a retrying grant's backoff starts over. A grant that waits for a person \
            (needs_reauth, not_nrtadmin, unauthorized) is not refreshed: it must be authorised again. \
            The command waits for the outcome (up to a minute) unless --no-wait is given.

            Exit codes: 0 refreshed (or scheduled, with --no-wait); 1 tried and failed (status and error \
            on stderr); 2 no such grant, or it waits for a person; 69 the daemon is not running; \
            77 not allowed to use the socket, or the daemon's [[api_client]] rules do not allow this \
            user; 70 an unexpected answer.
            """)

    @OptionGroup var config: ConfigOption
    @OptionGroup var grant: GrantSelection
    @Flag(help: "Return once the refresh is scheduled, without waiting for its outcome.") var noWait = false

    func validate() throws { _ = try grant.required(by: "refresh") }

    func run() async throws {
        let (organisation, kind, subject) = try grant.required(by: "refresh")
        let configuration = try config.load(secrets: .skip)
        let connection = DaemonConnection(configuration: configuration)
        // Long enough for one request to iManage and writing its outcome; the daemon answers when it is written.
        let wait = noWait ? 0 : min(60, GrantLifecycle(settings: configuration.refresh).longestRequest + 5)
        let field = kind == .library ? "library" : "user"
        let body = try JSONSerialization.data(withJSONObject: ["organisation": organisation, field: subject, "wait": wait] as [String: Any])
        let answer: DaemonClient.Answer
        do {
            answer = try await connection.client.send(.POST, "/v1/refresh", body: body, timeout: .seconds(Int64(wait) + 10))
        } catch {
            throw DaemonConnection.fail("refresh", error)
        }
        if answer.status == 403 { throw DaemonConnection.forbidden("refresh", answer) }
        guard answer.status == 200 || answer.status == 404,
              let result = (DaemonConnection.object(answer)["results"] as? [[String: Any]])?.first
        else {
            printError("imanage-tokend refresh: the daemon answered HTTP \(answer.status): \(DaemonConnection.object(answer)["reason"] as? String ?? "")")
            throw DaemonConnection.Exit.unexpected
        }
        let what = "\(kind.rawValue) \(subject) of \(organisation)"
        let status = result["status"] as? String ?? "unknown"
        let reason = result["reason"] as? String
        switch result["outcome"] as? String {
        case "refreshed":
            let expires = (result["access_expires_at"] as? String).flatMap(RFC3339.date)
            print("refreshed \(what): \(status)\(expires.map { ", access token valid until \(RFC3339.string($0)) (\(RelativeTime.describe($0, now: Date())))" } ?? "")")
        case "scheduled":
            let at = (result["refresh_at"] as? String) ?? "soon"
            print("refresh of \(what) scheduled at \(at)\(reason.map { ": \($0)" } ?? "")")
        case "failed":
            printError("imanage-tokend refresh: \(what) was tried and is \(status): \(result["last_error"] as? String ?? reason ?? "")")
            throw DaemonConnection.Exit.notValid
        case "refused":
            printError("imanage-tokend refresh: \(what) was not refreshed: \(reason ?? status)")
            throw DaemonConnection.Exit.noGrant
        default:
            // The daemon's reason starts "no grant: " itself: said once.
            let why = reason.map { $0.hasPrefix("no grant: ") ? String($0.dropFirst("no grant: ".count)) : $0 }
            printError("imanage-tokend refresh: no grant for \(what): \(why ?? "it was never authorized, or was revoked")")
            throw DaemonConnection.Exit.noGrant
        }
    }
}
