import ArgumentParser
import Foundation
import TokendAPI
import TokendConfig
import TokendPolicy

/// A subcommand's way to the running daemon: its token API socket, from the configuration.
struct DaemonConnection {
    let client: DaemonClient
    let configuration: TokendConfiguration

    init(configuration: TokendConfiguration) {
        self.configuration = configuration
        client = DaemonClient(socketPath: configuration.apiSocket)
    }


    /// `/v1/organisations/{org}/libraries/{lib}` or `…/users/{user}`, each name percent-encoded.
    static func grantPath(organisation: String, kind: GrantKind, subject: String) -> String {
        "/v1/organisations/\(DaemonClient.segment(organisation))/\(kind == .library ? "libraries" : "users")/\(DaemonClient.segment(subject))"
    }

    /// The JSON object of an answer, or an empty one.
    static func object(_ answer: DaemonClient.Answer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: answer.body)) as? [String: Any] ?? [:]
    }

    /// Exit codes of the commands that talk to the daemon.
    enum Exit {
        /// The grant's token is not valid now / the refresh was tried and failed.
        static let notValid = ExitCode(1)
        /// No such grant, or it waits for a person.
        static let noGrant = ExitCode(2)
        /// EX_UNAVAILABLE: the daemon is not running.
        static let unavailable = ExitCode(69)
        /// EX_NOPERM: not allowed to use the socket, or the daemon refused (`403`).
        static let notAllowed = ExitCode(77)
        /// EX_SOFTWARE: the daemon answered something unexpected.
        static let unexpected = ExitCode(70)
    }

    /// Prints why the daemon refused (`403`: this user may not ask that) and returns EX_NOPERM.
    static func forbidden(_ command: String, _ answer: DaemonClient.Answer) -> ExitCode {
        let reason = object(answer)["reason"] as? String ?? "no reason given"
        printError("imanage-tokend \(command): the daemon refused: \(reason)")
        printError("imanage-tokend \(command): ask the daemon's administrator to allow your user (uid \(getuid())) in its configuration ([[api_client]]), or run this as a user who is allowed")
        return Exit.notAllowed
    }

    /// Prints why the daemon could not be asked and returns the exit code to use.
    static func fail(_ command: String, _ error: DaemonClientError) -> ExitCode {
        printError("imanage-tokend \(command): \(error)")
        switch error {
        case .notRunning: return Exit.unavailable
        case .notAllowed: return Exit.notAllowed
        case .failed: return Exit.unexpected
        }
    }
}

extension DaemonConnection {
    /// What a running daemon said when asked to schedule grants another process stored.
    enum ScheduleOutcome: Equatable {
        case scheduled
        case notRunning
        /// Why it could not be told (in words for the administrator).
        case failed(String)
    }

    /// Asks the daemon at `socket` to schedule `keys` now (`POST /v1/schedule`, 10,000 a request),
    /// so `import` needs no SIGHUP.
    static func schedule(_ keys: [GrantKey], socket: String) async -> ScheduleOutcome {
        let client = DaemonClient(socketPath: socket)
        for start in stride(from: 0, to: keys.count, by: 10_000) {
            let grants = keys[start..<min(start + 10_000, keys.count)].map { key -> [String: String] in
                ["organisation": key.organisation, key.kind == .library ? "library" : "user": key.subject]
            }
            let body = try? JSONSerialization.data(withJSONObject: ["grants": grants])
            do {
                let answer = try await client.send(.POST, "/v1/schedule", body: body, timeout: .seconds(60))
                guard answer.status == 200 else { return .failed("the daemon answered HTTP \(answer.status)") }
            } catch DaemonClientError.notRunning {
                return .notRunning
            } catch {
                return .failed("could not tell the daemon (\(error))")
            }
        }
        return .scheduled
    }
}

extension GrantSelection {
    /// The grant named, for commands that need exactly one: `--organisation` and `--library` or `--user`.
    func required(by command: String) throws -> (organisation: String, kind: GrantKind, subject: String) {
        guard let organisation else { throw ValidationError("\(command) needs --organisation and one of --library or --user") }
        if let library { return (organisation, .library, library) }
        if let user { return (organisation, .user, user) }
        throw ValidationError("\(command) needs --library or --user")
    }
}
