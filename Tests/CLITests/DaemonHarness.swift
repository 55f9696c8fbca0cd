import Foundation
import Testing
import TokendTestSupport

/// The real binaries as an administrator runs them: the emulator as a process, a configuration
/// in a short temporary directory (a Unix socket path must fit in 108 bytes), grants brought in
/// with `import`, and `imanage-tokend run` started and stopped with SIGTERM.
final class DaemonHarness {
    let directory: URL
    let base: String
    let emulator: Process
    var daemon: Process?
    private var daemonLog: Pipe?
    var config: String { directory.appendingPathComponent("tokend.toml").path }
    var socket: String { directory.appendingPathComponent("api.sock").path }

    init(
        accessTokenLifetime: Int = 30, minimumInterval: Double = 0.5, emulatorArguments: [String] = [], organisationExtra: String = "",
        topLevelExtra: String = ""
    ) async throws {
        let files = try DaemonDirectory("tokend-cli", forSockets: true, mode: 0o700)  // private to the daemon's user: the API socket needs no group here
        directory = files.url
        let started = try await EmulatorProcess.start(["--access-token-lifetime", "\(accessTokenLifetime)"] + emulatorArguments)
        emulator = started.process
        base = started.base

        files.writeKey()
        files.writeSecret()
        try files.writeConfiguration(TestConfiguration(
            listen: topLevelExtra.contains("listen =") ? nil : "127.0.0.1:\(try LocalPort.free())", topLevel: topLevelExtra,
            refresh: TestConfiguration.quickRefresh(minimumInterval: minimumInterval),
            organisations: [TestOrganisation(at: base, customerID: nil, extra: organisationExtra)]))
    }

    deinit {
        if let daemon, daemon.isRunning { daemon.terminate(); daemon.waitUntilExit() }
        emulator.terminate()
        emulator.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// `imanage-tokend ARGS --config CONFIG`, waited for on a thread of its own.
    func tokend(_ arguments: [String], environment: [String: String] = [:], configPath: String? = nil) async throws -> TokendProcess.Outcome {
        let config = configPath ?? config
        return try await offThePool { try TokendProcess.run(arguments + ["--config", config], environment: environment) }
    }

    /// Mints a refresh token of `user` at the emulator and imports it for `--library` or `--user`.
    @discardableResult
    func importGrant(_ selection: [String], user: String = "ALICE", expectSuccess: Bool = true) async throws -> TokendProcess.Outcome {
        let minted = try await curl(["-X", "POST", base + "/_emulator/grants", "-d", #"{"user":"\#(user)","client_id":"tokend-demo","count":1}"#])
        let token = try #require((try JSONSerialization.jsonObject(with: Data(minted.utf8)) as? [String])?.first)
        let file = directory.appendingPathComponent("rt-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: file.path, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600])
        let outcome = try await tokend(["import", "--organisation", "demo"] + selection + ["--refresh-token-file", file.path])
        if expectSuccess { #expect(outcome.status == 0, "import failed: \(outcome.stderr)") }
        return outcome
    }

    /// Starts `run ARGUMENTS` and returns once its token API socket is there.
    func startDaemon(_ arguments: [String] = []) async throws {
        let process = Process()
        process.executableURL = TokendProcess.binary
        process.arguments = ["run", "--config", config] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "JOURNAL_STREAM")
        process.environment = environment
        let log = Pipe()
        process.standardError = log
        try process.run()
        daemon = process
        daemonLog = log
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socket) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(FileManager.default.fileExists(atPath: socket), "the daemon never opened its API socket")
    }

    /// SIGTERM; returns the daemon's exit status and everything it logged.
    @discardableResult
    func stopDaemon() async throws -> (status: Int32, log: String) {
        guard let daemon, let handle = daemonLog?.fileHandleForReading else { return (-1, "") }
        self.daemon = nil
        daemon.terminate()
        return try await offThePool {
            daemon.waitUntilExit()
            return (daemon.terminationStatus, String(decoding: handle.readDataToEndOfFile(), as: UTF8.self))
        }
    }

    func fault(_ json: String) async throws { _ = try await curl(["-X", "POST", base + "/_emulator/faults", "-d", json]) }
    func clearFaults() async throws { _ = try await curl(["-X", "DELETE", base + "/_emulator/faults"]) }

    /// `status --json` as an object.
    func statusJSON(_ extra: [String] = []) async throws -> [String: Any] {
        let outcome = try await tokend(["status", "--json"] + extra)
        return try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any] ?? [:]
    }

    /// Polls `status --json` until the first library or user has `status`, for at most `seconds`.
    func waitForStatus(_ status: String, upTo seconds: Double = 10) async throws -> Bool {
        try await eventually(upTo: seconds, every: .milliseconds(200)) {
            let object = try await statusJSON()
            let entries = (object["libraries"] as? [[String: Any]] ?? []) + (object["users"] as? [[String: Any]] ?? [])
            return entries.first?["status"] as? String == status
        }
    }

    func curl(_ arguments: [String]) async throws -> String {
        try await offThePool { try Self.runCurl(arguments) }
    }

    static func runCurl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-s", "--max-time", "5"] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
