import Foundation
import Testing
import TokendTestSupport

/// Runs the built `imanage-tokend` binary, as an administrator would.
struct TokendProcess {
    static var binary: URL { BuiltProduct.url("imanage-tokend") }

    typealias Outcome = ProcessOutcome

    /// Starts the binary with `arguments` and returns at once, its standard error in a pipe.
    static func launch(_ arguments: [String]) throws -> (process: Process, stderr: Pipe) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        return (process, stderr)
    }

    /// Runs the binary; with `user`, as that uid and gid through setpriv (the tests run as root).
    static func run(_ arguments: [String], environment: [String: String] = [:], user: uid_t? = nil) throws -> Outcome {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "CREDENTIALS_DIRECTORY")
        env.removeValue(forKey: "IMANAGE_TOKEND_CONFIG")
        let environment = env.merging(environment) { $1 }
        guard let user else { return try runToExit(binary, arguments, environment: environment) }
        return try runToExit(
            URL(fileURLWithPath: "/usr/bin/setpriv"), ["--reuid=\(user)", "--regid=\(user)", "--clear-groups", binary.path] + arguments,
            environment: environment)
    }
}

/// A copy of `etc/imanage-tokend` with its credentials at mode 0600, as an administrator installs it.
struct ExampleConfigCopy {
    let directory: URL
    var configPath: String { directory.appendingPathComponent("imanage-tokend.toml").path }

    init() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-cli-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: repository.appendingPathComponent("etc/imanage-tokend"), to: directory)
        let credentials = directory.appendingPathComponent("example-credentials")
        for name in try FileManager.default.contentsOfDirectory(atPath: credentials.path) {
            chmod(credentials.appendingPathComponent(name).path, 0o600)
        }
    }

    func secrets() throws -> [String] {
        let credentials = directory.appendingPathComponent("example-credentials")
        return try FileManager.default.contentsOfDirectory(atPath: credentials.path)
            .filter { !$0.hasPrefix(".") && $0 != "token.key" }
            .map { try String(contentsOf: credentials.appendingPathComponent($0), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    func cleanUp() { try? FileManager.default.removeItem(at: directory) }
}

@Suite("imanage-tokend check-config", .serialized)
struct CheckConfigCommandTests {
    @Test("the example configuration is valid and printed without its secrets")
    func exampleIsValid() throws {
        let copy = try ExampleConfigCopy()
        defer { copy.cleanUp() }
        let outcome = try TokendProcess.run(["check-config", "--config", copy.configPath])
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
        #expect(outcome.stdout.contains("/oauth/callback"))
        #expect(outcome.stdout.contains("https://cloudimanage.com"))
        #expect(outcome.stdout.contains("sha256:"))
        for secret in try copy.secrets() where !secret.isEmpty {
            #expect(!outcome.stdout.contains(secret) && !outcome.stderr.contains(secret))
        }
    }

    @Test("$IMANAGE_TOKEND_CONFIG names the file when --config is not given")
    func environmentNamesTheFile() throws {
        let copy = try ExampleConfigCopy()
        defer { copy.cleanUp() }
        let outcome = try TokendProcess.run(["check-config"], environment: ["IMANAGE_TOKEND_CONFIG": copy.configPath])
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
    }

    @Test("a broken copy exits non-zero naming the file, the line and the key")
    func brokenCopy() throws {
        let copy = try ExampleConfigCopy()
        defer { copy.cleanUp() }
        let original = try String(contentsOfFile: copy.configPath, encoding: .utf8)
        let text = "# an administrator's typo below\nretries = 3\n" + original
        try text.write(toFile: copy.configPath, atomically: true, encoding: .utf8)
        let lineOfKey = 2
        let outcome = try TokendProcess.run(["check-config", "--config", copy.configPath])
        #expect(outcome.status == 78)
        #expect(outcome.stderr.contains("imanage-tokend.toml:\(lineOfKey)"), "stderr: \(outcome.stderr)")
        #expect(outcome.stderr.contains("retries"))
        #expect(outcome.stdout.isEmpty)
    }

    @Test("world-readable secret files are refused with the fix")
    func worldReadableSecret() throws {
        let copy = try ExampleConfigCopy()
        defer { copy.cleanUp() }
        chmod(copy.directory.appendingPathComponent("example-credentials/token.key").path, 0o644)
        let outcome = try TokendProcess.run(["check-config", "--config", copy.configPath])
        #expect(outcome.status == 78)
        #expect(outcome.stderr.contains("chmod 600"))
    }

    @Test("with no database and no daemon, each command says so, prints no result and creates nothing")
    func nothingThere() throws {
        let copy = try ExampleConfigCopy()
        defer { copy.cleanUp() }
        // The example's database and socket are under /var/lib and /run, where an installed package may
        // have made them: this copy points both into its own directory, so the case is always the same.
        let database = copy.directory.appendingPathComponent("state/tokend.sqlite").path
        let text = try String(contentsOfFile: copy.configPath, encoding: .utf8)
            .replacingOccurrences(of: "\"/var/lib/imanage-tokend/tokend.sqlite\"", with: "\"\(database)\"")
            .replacingOccurrences(of: "\"/run/imanage-tokend/api.sock\"", with: "\"\(copy.directory.path)/api.sock\"")
        try #require(text.contains(database), "the example no longer names /var/lib/imanage-tokend/tokend.sqlite")
        try text.write(toFile: copy.configPath, atomically: true, encoding: .utf8)
        let expected: [([String], Int32, String)] = [
            (["status"], 3, "could not tell"),
            (["history"], 3, "could not tell"),
            (["revoke", "--organisation", "acme", "--library", "ACTIVE"], 2, "there is no database"),
            (["token", "--organisation", "acme", "--library", "ACTIVE"], 69, "the daemon is not running"),
            (["refresh", "--organisation", "acme", "--library", "ACTIVE"], 69, "the daemon is not running"),
        ]
        for (command, status, message) in expected {
            let outcome = try TokendProcess.run(command + ["--config", copy.configPath])
            #expect(outcome.status == status, "\(command): \(outcome.stderr)")
            #expect(outcome.stdout.isEmpty)
            #expect(outcome.stderr.contains(message), "\(command): \(outcome.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: database), "a command created the database")
    }

    /// root reads every file, so "permission denied" can only be seen as another user: the check runs as
    /// uid 65534 through setpriv, over a copy owned by that user with the secret at mode 0000.
    @Test("as the service user, an unreadable secret is a missing LoadCredential= line, named as such", .enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func unreadableSecretAsAnotherUser() throws {
        let nobody: uid_t = 65_534
        let copy = try ExampleConfigCopy()
        defer { copy.cleanUp() }
        let credentials = copy.directory.appendingPathComponent("example-credentials")
        for path in [copy.directory.path, copy.configPath, credentials.path]
            + (try FileManager.default.contentsOfDirectory(atPath: credentials.path)).map({ credentials.appendingPathComponent($0).path }) {
            chown(path, nobody, nobody)
        }
        chmod(credentials.appendingPathComponent("cloud-client-secret").path, 0o000)
        let outcome = try TokendProcess.run(["check-config", "--config", copy.configPath], user: nobody)
        #expect(outcome.status == 78, "\(outcome.stderr)")
        let path = credentials.appendingPathComponent("cloud-client-secret").path
        #expect(outcome.stderr.contains("\(path) is not readable by uid \(nobody): under systemd add "
            + "LoadCredential=cloud-client-secret:\(path) to the unit's drop-in"), "\(outcome.stderr)")
        // The example names it by a path, which is never looked up in $CREDENTIALS_DIRECTORY.
        #expect(outcome.stderr.contains("name it \"cloud-client-secret\" in the configuration"), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("permission denied"), "\(outcome.stderr)")
    }

    @Test("--systemd-credentials prints the LoadCredential= lines of the key and every client secret, without reading them")
    func systemdCredentials() throws {
        let copy = try ExampleConfigCopy()
        defer { copy.cleanUp() }
        // The administrator's usual form: plain names, found in $CREDENTIALS_DIRECTORY under systemd.
        let text = try String(contentsOfFile: copy.configPath, encoding: .utf8)
            .replacingOccurrences(of: "\"example-credentials/", with: "\"")
        try text.write(toFile: copy.configPath, atomically: true, encoding: .utf8)
        let secrets = try copy.secrets()
        let credentials = copy.directory.appendingPathComponent("example-credentials")
        for name in ["token.key", "cloud-client-secret", "onprem-client-secret"] {
            try FileManager.default.moveItem(at: credentials.appendingPathComponent(name), to: copy.directory.appendingPathComponent(name))
        }
        chmod(copy.directory.appendingPathComponent("onprem-client-secret").path, 0o000)  // not read: only named
        let outcome = try TokendProcess.run(["check-config", "--systemd-credentials", "--config", copy.configPath])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = outcome.stdout.split(separator: "\n").filter { $0.hasPrefix("LoadCredential=") }
        let directory = copy.directory.path
        #expect(lines == [
            "LoadCredential=token.key:\(directory)/token.key",
            "LoadCredential=cloud-client-secret:\(directory)/cloud-client-secret",
            "LoadCredential=onprem-client-secret:\(directory)/onprem-client-secret",
        ], "\(outcome.stdout)")
        #expect(outcome.stdout.contains("[Service]"))
        #expect(!secrets.isEmpty)
        for secret in secrets where !secret.isEmpty { #expect(!outcome.stdout.contains(secret)) }
    }

    @Test("--systemd-credentials says how to rename a secret named by a path")
    func systemdCredentialsForAPath() throws {
        let copy = try ExampleConfigCopy()
        defer { copy.cleanUp() }
        let outcome = try TokendProcess.run(["check-config", "--systemd-credentials", "--config", copy.configPath])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let path = copy.directory.appendingPathComponent("example-credentials/cloud-client-secret").path
        #expect(outcome.stdout.contains("LoadCredential=cloud-client-secret:\(path)"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("[cloud_application].client_secret_file = \"cloud-client-secret\""), "\(outcome.stdout)")
    }

    @Test("the command line refuses a library and a user together")
    func argumentValidation() throws {
        let outcome = try TokendProcess.run(["token", "--organisation", "acme", "--library", "A", "--user", "B"])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("not both"))
    }
}
