import Foundation
import Logging
import PostgresNIO
import TokendConfig
import TokendPostgres

/// A scratch PostgreSQL server for this test run: started once (initdb and pg_ctl in a temporary
/// directory, as the `postgres` user when root, else as this user), each test making its own
/// database. A watchdog stops it when the test process ends, however it ends.
///
/// `TOKEND_POSTGRES_BIN` names the directory of initdb and pg_ctl; without it the newest
/// `/usr/lib/postgresql/*/bin` (Debian's `postgresql` package) is used. Without either, the
/// PostgreSQL side of the contract suite is skipped and says so.
///
/// A second server, in TLS mode (`newTLSDatabase`), accepts only TLS (`hostssl` in pg_hba.conf):
/// its certificate, for 127.0.0.1 and localhost, is signed by a CA made with `openssl` for the run
/// (`TLSFiles.caFile`); `TLSFiles.otherCAFile` is a CA that signed nothing of it.
public enum PostgreSQLTestServer {
    public struct Running: Sendable {
        public let port: Int
        public let password: String
        public let directory: String
        /// The certificates of a TLS-mode server; `nil` for the plain one.
        public let tls: TLSFiles?
    }

    /// The PEM files of a TLS-mode server.
    public struct TLSFiles: Sendable {
        /// The CA that signed the server's certificate (SAN 127.0.0.1 and localhost).
        public let caFile: String
        /// Another CA, which signed nothing the server shows.
        public let otherCAFile: String
    }

    /// An address the TLS-mode server listens on too that its certificate does not name.
    public static let unnamedAddress = "127.0.0.2"

    public static let user = "tokend"

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

    public static var isInstalled: Bool { binDirectory != nil }
    /// The TLS mode needs the `openssl` command too, to make its certificates.
    public static var tlsIsPossible: Bool { isInstalled && FileManager.default.isExecutableFile(atPath: openssl) }
    static let openssl = "/usr/bin/openssl"

    /// The server, started by the first test that asks, on a thread of its own (initdb takes
    /// seconds; the tests' cooperative threads must not wait on it).
    private static let started = Task<Running, any Error> {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try start(tls: false) }) }
        }
    }

    private static let startedWithTLS = Task<Running, any Error> {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try start(tls: true) }) }
        }
    }

    /// A new, empty database on the server, for one test.
    public static func newDatabase() async throws -> PostgresConnectionSettings {
        let server = try await started.value
        return settings(server, database: try await createDatabase(on: server))
    }

    /// A new, empty database on the TLS-only server, with its certificates; the settings are
    /// `sslmode=require` to 127.0.0.1 (change `url` to try others).
    public static func newTLSDatabase() async throws -> (settings: PostgresConnectionSettings, server: Running) {
        let server = try await startedWithTLS.value
        var settings = settings(server, database: try await createDatabase(on: server))
        settings.url.tls = .require
        return (settings, server)
    }

    private static func createDatabase(on server: Running) async throws -> String {
        let name = "test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20))"
        let client = PostgresClient(configuration: adminConfiguration(server), backgroundLogger: Logger(label: "test.postgres"))
        let running = Task { await client.run() }
        defer { running.cancel() }
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        return name
    }

    public static func settings(_ server: Running, database: String) -> PostgresConnectionSettings {
        PostgresConnectionSettings(
            url: PostgresURL(user: user, host: "127.0.0.1", port: server.port, database: database, tls: .disable),
            password: server.password)
    }

    /// The superuser over the server's Unix socket (trusted locally, TLS or not).
    private static func adminConfiguration(_ server: Running) -> PostgresClient.Configuration {
        PostgresClient.Configuration(
            unixSocketPath: "\(server.directory)/.s.PGSQL.\(server.port)", username: user, password: server.password, database: "postgres")
    }

    private static func start(tls: Bool) throws -> Running {
        guard let bin = binDirectory else { throw Failure("no PostgreSQL server here: apt-get install postgresql") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-pg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let password = UUID().uuidString
        let passwordFile = directory + "/password"
        try Data(password.utf8).write(to: URL(fileURLWithPath: passwordFile))
        let tlsFiles = tls ? try makeCertificates(in: directory) : nil
        let asRoot = geteuid() == 0
        if asRoot { try run("/bin/chown", ["-R", "postgres:postgres", directory]) }
        // First, so that a start that fails half-way leaves nothing running either.
        try startWatchdog(bin: bin, directory: directory, asPostgres: asRoot)
        let port = try LocalPort.free()
        try run(bin + "/initdb", [
            "-D", directory + "/data", "-U", user, "--pwfile", passwordFile, "--auth-host=scram-sha-256",
            "--auth-local=trust", "--no-sync", "-E", "UTF8", "--locale=C",
        ], asPostgres: asRoot)
        var options = "-k \(directory) -c listen_addresses=127.0.0.1 -p \(port) -c fsync=off -c max_connections=300"
        if tls {
            // Only TLS over TCP: a plain connection finds no pg_hba.conf line and is refused.
            let hba = "local all all trust\nhostssl all all 127.0.0.0/8 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n"
            try Data(hba.utf8).write(to: URL(fileURLWithPath: directory + "/data/pg_hba.conf"))
            if asRoot { try run("/bin/chown", ["postgres:postgres", directory + "/data/pg_hba.conf"]) }
            // Also on 127.0.0.2, an address the certificate does not name (`TLSFiles.unnamedAddress`).
            options = options.replacingOccurrences(of: "listen_addresses=127.0.0.1", with: "listen_addresses=127.0.0.1,\(unnamedAddress)")
            options += " -c ssl=on -c ssl_cert_file=\(directory)/server.crt -c ssl_key_file=\(directory)/server.key"
        }
        try run(bin + "/pg_ctl", ["-D", directory + "/data", "-l", directory + "/log", "-w", "-o", options, "start"], asPostgres: asRoot)
        return Running(port: port, password: password, directory: directory, tls: tlsFiles)
    }

    /// A CA, the server's certificate it signs (SAN 127.0.0.1 and localhost) with its key (0600:
    /// PostgreSQL refuses a key others can read), and another CA, all made with `openssl`.
    private static func makeCertificates(in directory: String) throws -> TLSFiles {
        func path(_ name: String) -> String { "\(directory)/\(name)" }
        for ca in ["ca", "other-ca"] {
            try run(openssl, [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=imanage-tokend test \(ca)",
                "-keyout", path("\(ca).key"), "-out", path("\(ca).crt"),
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        }
        try run(openssl, [
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", path("server.key"), "-out", path("server.csr"),
        ])
        let extensions = "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        try Data(extensions.utf8).write(to: URL(fileURLWithPath: path("server.ext")))
        try run(openssl, [
            "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", path("server.ext"), "-out", path("server.crt"),
        ])
        guard chmod(path("server.key"), 0o600) == 0 else { throw Failure("cannot chmod the server key: \(String(cString: strerror(errno)))") }
        // The other test users read the CAs (the daemon under test reads ca_file).
        _ = chmod(path("ca.crt"), 0o644)
        _ = chmod(path("other-ca.crt"), 0o644)
        return TLSFiles(caFile: path("ca.crt"), otherCAFile: path("other-ca.crt"))
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
    /// would hold a pipe open), and no other descriptor of this process.
    ///
    /// Closing the rest matters: the server and the watchdog live as long as the test process, and
    /// with this process's descriptors they held open what other tests were using at that moment:
    /// the socket through which Foundation's Process learns that a child has exited (so a test's
    /// `tokend status` stayed a zombie and the whole suite hung), and connections a test server had
    /// closed (so the client never saw the close: `ListenerLimitsTests`, `FaultTests.hangThenDrop`).
    private static func spawn(_ argv: [String], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        guard closeFrom(&actions, 3) == 0 else { throw Failure("cannot ask posix_spawn to close descriptors: \(String(cString: strerror(errno)))") }
        var pid: pid_t = 0
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let result = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard result == 0 else { throw Failure("cannot start \(argv[0]): \(String(cString: strerror(result)))") }
        return pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc
    /// module does not import (it is declared for `_GNU_SOURCE` only): found by name.
    private static let closeFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            fatalError("glibc 2.34 or later is needed: posix_spawn_file_actions_addclosefrom_np not found")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
