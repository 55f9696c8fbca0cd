import Foundation
import Testing

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
        directory = URL(fileURLWithPath: "/tmp/tokend-sec-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        chmod(directory.path, 0o700)  // private to the daemon's user: the API socket needs no group here
        emulator = Process()
        emulator.executableURL = TokendProcess.binary.deletingLastPathComponent().appendingPathComponent("imanage-emulator")
        // Access tokens of 300 s: nothing refreshes by itself during the session; the test drives
        // every refresh with `imanage-tokend refresh`, so each fault meets the grant meant for it.
        emulator.arguments = ["--port", "0", "--access-token-lifetime", "300", "--rotation", "--record-secrets"]
        let output = Pipe()
        emulator.standardOutput = output
        emulator.standardError = Pipe()
        try emulator.run()
        emulatorBase = try await EmulatorProcess.address(from: output.fileHandleForReading, of: emulator, upTo: 20)
        webBase = "http://127.0.0.1:\(try freeLoopbackPort())"

        _ = FileManager.default.createFile(
            atPath: directory.appendingPathComponent("token.key").path, contents: encryptionKey,
            attributes: [.posixPermissions: 0o600])
        for (file, secret) in [("client-secret", Self.clientSecret), ("refused-secret", wrongClientSecret)] {
            _ = FileManager.default.createFile(
                atPath: directory.appendingPathComponent(file).path, contents: Data(secret.utf8),
                attributes: [.posixPermissions: 0o600])
        }
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
        var toml = """
            database = "tokend.sqlite"
            key_file = "token.key"
            public_url = "\(webBase)"
            listen = "\(webBase.dropFirst("http://".count))"
            api_socket = "api.sock"
            [refresh]
            minimum_interval_seconds = 0.2
            backoff_initial_seconds = 1
            backoff_max_seconds = 2
            retry_after_max_seconds = 2
            nrtadmin_check_hours = 0.0001

            """
        for (name, secretFile) in [("acme", "client-secret"), ("beta", betaSecretFile)] {
            toml += """
                [[organisation]]
                name = "\(name)"
                use_default_configuration = false
                region = "custom"
                authorization_url = "\(emulatorBase)"
                token_url = "\(emulatorBase)"
                client_id = "tokend-demo"
                client_secret_file = "\(secretFile)"
                customer_id = "1"
                \(name == "beta" ? betaExtra : "")

                """
        }
        try toml.write(toFile: config, atomically: true, encoding: .utf8)
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
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("timed out after \(seconds) s waiting until \(what)", sourceLocation: sourceLocation)
    throw CancellationError()
}

/// A loopback port nothing listens on now (the kernel's pick for a socket bound to port 0).
func freeLoopbackPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}
