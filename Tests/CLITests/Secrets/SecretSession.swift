import Foundation
import Testing
import TokendTestSupport

/// A whole session of the real binaries for the secrets test: the emulator as a process that
/// records every secret it issues (`--record-secrets`, rotation on), two organisations (`acme`
/// and `beta`, the same emulator and client), `imanage-tokend run` with its web pages on a
/// free port and its log at trace level in a file, and every output anybody could read kept
/// in ``outputs`` under the name of where it came from.
///
/// The token API's successful token answers and `token`'s standard output are the only places
/// a token belongs; they are kept apart in ``allowedCarriers``.
final class SecretSession {
    let directory: URL
    let emulatorBase: String
    let webBase: String
    private let emulator: Process
    private var daemon: Process?
    var config: String { directory.appendingPathComponent("tokend.toml").path }
    var socket: String { directory.appendingPathComponent("api.sock").path }
    var database: String { directory.appendingPathComponent("tokend.sqlite").path }
    var daemonLogPath: String { directory.appendingPathComponent("daemon.log").path }

    /// The client secret of both organisations, as the emulator knows it.
    static let clientSecret = "demo-secret"
    /// The secret `beta` is switched to, which the emulator refuses.
    let wrongClientSecret = randomTokenText()
    let encryptionKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) })

    private(set) var outputs: [(place: String, text: String)] = []
    private(set) var allowedCarriers: [(place: String, text: String)] = []

    init() async throws {
        let files = try DaemonDirectory("tokend-sec", forSockets: true, mode: 0o700)  // private to the daemon's user: the API socket needs no group here
        directory = files.url
        // Access tokens of 300 s: nothing refreshes by itself during the session; the test drives
        // every refresh with `imanage-tokend refresh`, so each fault meets the grant meant for it.
        let started = try await EmulatorProcess.start(["--access-token-lifetime", "300", "--rotation", "--record-secrets"])
        emulator = started.process
        emulatorBase = started.base
        webBase = "http://127.0.0.1:\(try LocalPort.free())"

        files.write("token.key", encryptionKey)
        files.writeSecret("client-secret", Self.clientSecret)
        files.writeSecret("refused-secret", wrongClientSecret)
        try writeConfiguration(betaSecretFile: "client-secret")
    }

    deinit {
        if let daemon, daemon.isRunning { daemon.terminate(); daemon.waitUntilExit() }
        emulator.terminate()
        emulator.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The configuration; `beta`'s client secret file is the one named, and `betaExtra` is added
    /// to its table as written.
    func writeConfiguration(betaSecretFile: String, betaExtra: String = "") throws {
        let refresh = TestConfiguration.quickRefresh(minimumInterval: 0.2, extra: ["retry_after_max_seconds = 2", "nrtadmin_check_hours = 0.0001"])
        let organisations = [
            TestOrganisation("acme", at: emulatorBase, clientSecretFile: "client-secret"),
            TestOrganisation("beta", at: emulatorBase, clientSecretFile: betaSecretFile, extra: betaExtra),
        ]
        try TestConfiguration(publicURL: webBase, listen: String(webBase.dropFirst("http://".count)), refresh: refresh, organisations: organisations)
            .text.write(toFile: config, atomically: true, encoding: .utf8)
    }

    // MARK: Outputs

    func record(_ place: String, _ text: String) {
        if !text.isEmpty { outputs.append((place, text)) }
    }

    func recordAllowed(_ place: String, _ text: String) {
        allowedCarriers.append((place, text))
    }

    /// `imanage-tokend ARGS --config CONFIG`; its standard output and error are recorded, except
    /// the standard output of `token`, which is allowed to carry the token it prints.
    @discardableResult
    func tokend(_ arguments: [String]) async throws -> TokendProcess.Outcome {
        let all = arguments + ["--config", config]
        let outcome = try await offThePool { try TokendProcess.run(all) }
        let name = "`imanage-tokend \(arguments.joined(separator: " "))` (exit \(outcome.status))"
        if arguments.first == "token" && outcome.status == 0 {
            recordAllowed(name + " stdout", outcome.stdout)
        } else {
            record(name + " stdout", outcome.stdout)
        }
        record(name + " stderr", outcome.stderr)
        return outcome
    }

    /// `import` of a refresh token written to a file, as an administrator does it.
    @discardableResult
    func importGrant(_ selection: [String], refreshToken: String) async throws -> TokendProcess.Outcome {
        let file = directory.appendingPathComponent("rt-\(UUID().uuidString.prefix(8))")
        _ = FileManager.default.createFile(atPath: file.path, contents: Data(refreshToken.utf8), attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(at: file) }
        return try await tokend(["import"] + selection + ["--refresh-token-file", file.path])
    }

    /// One request to the token API over its Unix socket; the answer, headers included, is
    /// recorded unless it is a successful token answer.
    @discardableResult
    func api(_ method: String, _ path: String, json: String? = nil) async throws -> HTTPExchange {
        var arguments = ["-i", "--unix-socket", socket, "-X", method]
        if let json { arguments += ["-H", "Content-Type: application/json", "--data-binary", json] }
        let answer = HTTPExchange(url: path, raw: try await curl(arguments + ["http://localhost" + path]))
        let place = "token API \(method) \(path) (HTTP \(answer.status))"
        if answer.status == 200 && path.hasSuffix("/token") {
            recordAllowed(place, answer.raw)
        } else {
            record(place, answer.raw)
        }
        return answer
    }

    // MARK: The emulator

    /// A control API call; not recorded (the emulator is iManage, not the daemon).
    @discardableResult
    func control(_ method: String, _ path: String, json: String? = nil) async throws -> String {
        var arguments = ["-X", method, emulatorBase + "/_emulator" + path]
        if let json { arguments += ["-d", json] }
        return try await curl(arguments)
    }

    /// A new refresh token of `user`, as if they had signed in.
    func mintRefreshToken(user: String) async throws -> String {
        let minted = try await control("POST", "/grants", json: #"{"user":"\#(user)","client_id":"tokend-demo","count":1}"#)
        return try #require((try JSONSerialization.jsonObject(with: Data(minted.utf8)) as? [String])?.first)
    }

    /// Everything the emulator issued or was given: tokens, codes, PKCE verifiers.
    func issuedSecrets() async throws -> [KnownSecret] {
        let answer = try await control("GET", "/secrets")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: [String]], "\(answer)")
        let kinds = [
            ("access_tokens", "access token"), ("refresh_tokens", "refresh token"),
            ("authorization_codes", "authorisation code"), ("code_verifiers", "PKCE verifier"),
        ]
        return kinds.flatMap { key, kind in (object[key] ?? []).map { KnownSecret(kind: kind, value: $0) } }
    }

    func curl(_ arguments: [String]) async throws -> String {
        try await offThePool { try DaemonHarness.runCurl(arguments) }
    }

    // MARK: The daemon

    /// Starts `run --log-level trace` (every line the daemon can write) with its
    /// standard error in a file, and returns once the token API socket is there.
    func startDaemon() async throws {
        let process = Process()
        process.executableURL = TokendProcess.binary
        process.arguments = ["run", "--config", config, "--log-level", "trace"]
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "JOURNAL_STREAM")
        environment.removeValue(forKey: "NOTIFY_SOCKET")
        process.environment = environment
        _ = FileManager.default.createFile(atPath: daemonLogPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: daemonLogPath))
        process.standardOutput = process.standardError
        try process.run()
        daemon = process
        let socket = socket
        try await waitUntil("the daemon opened its API socket", upTo: 20) { FileManager.default.fileExists(atPath: socket) }
    }

    /// SIGHUP: reread the configuration.
    func reloadDaemon() {
        if let daemon { kill(daemon.processIdentifier, SIGHUP) }
    }

    /// SIGTERM, and waits for the exit status.
    func stopDaemon() async throws -> Int32 {
        guard let daemon else { return -1 }
        self.daemon = nil
        daemon.terminate()
        return try await offThePool {
            daemon.waitUntilExit()
            return daemon.terminationStatus
        }
    }

    /// What the daemon has logged so far.
    func daemonLog() throws -> String {
        try String(contentsOfFile: daemonLogPath, encoding: .utf8)
    }

    /// The database file and its `-wal` and `-shm` companions, those that exist.
    func databaseFiles() -> [(name: String, bytes: Data)] {
        ["", "-wal", "-shm"].compactMap { suffix in
            FileManager.default.contents(atPath: database + suffix).map { ("tokend.sqlite" + suffix, $0) }
        }
    }

    /// The status of one grant in `status --json`, or nil.
    func status(_ selection: [String]) async throws -> String? {
        let outcome = try await offThePool { [config] in try TokendProcess.run(["status", "--json"] + selection + ["--config", config]) }
        let object = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any] ?? [:]
        let entries = (object["libraries"] as? [[String: Any]] ?? []) + (object["users"] as? [[String: Any]] ?? [])
        return entries.first?["status"] as? String
    }

}

/// Polls `condition` every 100 ms until it holds or `seconds` have passed; fails the test then.
func waitUntil(
    _ what: String, upTo seconds: Double, sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    if try await eventually(upTo: seconds, every: .milliseconds(100), condition) { return }
    Issue.record("timed out after \(seconds) s waiting until \(what)", sourceLocation: sourceLocation)
    throw CancellationError()
}
