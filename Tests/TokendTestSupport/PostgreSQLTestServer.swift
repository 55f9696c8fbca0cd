import Foundation
import Logging
import PostgresNIO
import TokendConfig
import TokendPostgres
import TokendTestSupport

/// A scratch PostgreSQL server for this test run: started once (initdb and pg_ctl in a temporary
/// directory, as the `postgres` user when root, else as this user), each test making its own
/// database. A watchdog stops it when the test process ends, however it ends.
///
/// `TOKEND_POSTGRES_BIN` names the directory of initdb and pg_ctl; without it the newest
/// `/usr/lib/postgresql/*/bin` (Debian's `postgresql` package) is used. Without either, the
/// PostgreSQL side of the contract suite is skipped and says so.
enum PostgreSQLTestServer {
    struct Running: Sendable {
        let port: Int
        let password: String
        let directory: String
    }

    static let user = "tokend"

    /// Where initdb and pg_ctl are, or `nil` (no PostgreSQL here).
    static let binDirectory: String? = {
        if let configured = ProcessInfo.processInfo.environment["TOKEND_POSTGRES_BIN"], !configured.isEmpty {
            return FileManager.default.isExecutableFile(atPath: configured + "/initdb") ? configured : nil
        }
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap(Int.init).sorted().reversed().map { "\(root)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
    }()

    static var isInstalled: Bool { binDirectory != nil }

    /// The server, started by the first test that asks, on a thread of its own (initdb takes
    /// seconds; the tests' cooperative threads must not wait on it).
    private static let started = Task<Running, any Error> {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try start() }) }
        }
    }

    /// A new, empty database on the server, for one test.
    static func newDatabase() async throws -> PostgresConnectionSettings {
        let server = try await started.value
        let name = "test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20))"
        let admin = settings(server, database: "postgres")
        let client = PostgresClient(configuration: try adminConfiguration(admin), backgroundLogger: Logger(label: "test.postgres"))
        let running = Task { await client.run() }
        defer { running.cancel() }
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        return settings(server, database: name)
    }

    static func settings(_ server: Running, database: String) -> PostgresConnectionSettings {
        PostgresConnectionSettings(
            url: PostgresURL(user: user, host: "127.0.0.1", port: server.port, database: database, tls: .disable),
            password: server.password)
    }

    private static func adminConfiguration(_ settings: PostgresConnectionSettings) throws -> PostgresClient.Configuration {
        PostgresClient.Configuration(
            host: settings.url.host, port: settings.url.port, username: settings.url.user, password: settings.password,
            database: settings.url.database, tls: .disable)
    }

    private static func start() throws -> Running {
        guard let bin = binDirectory else { throw Failure("no PostgreSQL server here: apt-get install postgresql") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-pg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let password = UUID().uuidString
        let passwordFile = directory + "/password"
        try Data(password.utf8).write(to: URL(fileURLWithPath: passwordFile))
        let asRoot = geteuid() == 0
        if asRoot { try run("/bin/chown", ["-R", "postgres:postgres", directory]) }
        // First, so that a start that fails half-way leaves nothing running either.
        try startWatchdog(bin: bin, directory: directory, asPostgres: asRoot)
        let port = try LocalPort.free()
        try run(bin + "/initdb", [
            "-D", directory + "/data", "-U", user, "--pwfile", passwordFile, "--auth-host=scram-sha-256",
            "--auth-local=trust", "--no-sync", "-E", "UTF8", "--locale=C",
        ], asPostgres: asRoot)
        try run(bin + "/pg_ctl", [
            "-D", directory + "/data", "-l", directory + "/log", "-w", "-o",
            "-k \(directory) -c listen_addresses=127.0.0.1 -p \(port) -c fsync=off -c max_connections=300",
            "start",
        ], asPostgres: asRoot)
        return Running(port: port, password: password, directory: directory)
    }

    /// Stops the server and removes its directory once this process has gone.
    private static func startWatchdog(bin: String, directory: String, asPostgres: Bool) throws {
        let stop = "\(asPostgres ? "/usr/sbin/runuser -u postgres -- " : "")\(bin)/pg_ctl -D \(directory)/data -m immediate stop"
        let script = "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(stop) >/dev/null 2>&1; rm -rf \(directory)"
        _ = try spawn(["/usr/bin/setsid", "/bin/sh", "-c", script], output: "/dev/null")
    }

    private static func run(_ program: String, _ arguments: [String], asPostgres: Bool = false) throws {
        let argv = (asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + [program] + arguments
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-pg-output-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let pid = try spawn(argv, output: outputPath)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // Exited normally with 0: WIFEXITED and WEXITSTATUS, which Swift cannot call (macros).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw Failure("\((program as NSString).lastPathComponent) failed (wait status \(status)): \(text)")
        }
    }

    /// posix_spawn with stdout and stderr to `output` (a file, not a pipe: the server pg_ctl starts
    /// would hold a pipe open). Foundation's Process was not used: its child reaping missed the
    /// exit of runuser here and waitUntilExit never returned.
    private static func spawn(_ argv: [String], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let result = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard result == 0 else { throw Failure("cannot start \(argv[0]): \(String(cString: strerror(result)))") }
        return pid
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
