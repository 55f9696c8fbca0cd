import Foundation
import NIOHTTP1
import Testing
import TokendAPI
import TokendTestSupport

/// Who may use the token API, over the real socket: clients run as uid 65534 (nobody) with
/// setpriv, in group `nogroup`, which the socket is given. Needs root, setpriv and curl.
@Suite(
    "The token API's access rules, over the socket",
    .serialized,
    .enabled(if: canSwitchToNobody()))
struct APIAccessSocketTests {
    static let nobody: UInt32 = 65534

    /// The daemon with a socket in group nogroup, in a directory nobody can enter; `tables` are
    /// added to its configuration. Returns once ACTIVE has a valid token.
    static func start(tables: String = "") async throws -> APIFixture {
        let fixture = try await APIFixture.start(
            accessTokenLifetime: 30, socketGroup: "nogroup", directoryMode: 0o755, tables: tables)
        let path = "/v1/organisations/demo/libraries/ACTIVE/token"
        for _ in 0..<100 {
            if try await fixture.daemon.send(.GET, path).status == 200 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return fixture
    }

    typealias Run = ProcessOutcome

    /// Runs `arguments` as nobody (uid and gid 65534, no other groups), waiting on a thread of its own.
    static func asNobody(_ arguments: [String]) async throws -> Run {
        try await run(["/usr/bin/setpriv", "--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", "--"] + arguments)
    }

    /// Runs `arguments` (the executable's path first) as this process's user, waiting on a thread of its own.
    static func run(_ arguments: [String]) async throws -> Run {
        try await offThePool { try runProcess(arguments) }
    }

    private static func runProcess(_ arguments: [String]) throws -> Run {
        try runToExit(URL(fileURLWithPath: arguments[0]), Array(arguments.dropFirst()))
    }

    /// An HTTP request as nobody with curl: the status and the body.
    static func curl(_ fixture: APIFixture, _ method: String, _ path: String, body: String? = nil) async throws -> (status: Int, body: [String: Any]) {
        var arguments = ["/usr/bin/curl", "-s", "--max-time", "10", "--unix-socket", fixture.socketPath, "-X", method,
                         "-o", "-", "-w", "\n%{http_code}"]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data", body] }
        let run = try await asNobody(arguments + ["http://localhost" + path])
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        let text = lines.dropLast().joined(separator: "\n")
        let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        return (status, object)
    }

    static var binary: URL { BuiltProduct.url("imanage-tokend") }

    static let tokenPath = "/v1/organisations/demo/libraries/ACTIVE/token"
    static let refreshBody = #"{"organisation": "demo", "library": "ACTIVE"}"#

    @Test("without [[api_client]] tables the socket's group reads tokens and status, and nothing more")
    func defaultRules() async throws {
        let fixture = try await Self.start()
        try await withTeardown({ await fixture.stop() }) {
            let token = try await Self.curl(fixture, "GET", Self.tokenPath)
            #expect(token.status == 200)
            #expect((token.body["access_token"] as? String)?.isEmpty == false)
            #expect(try await Self.curl(fixture, "GET", "/v1/status").status == 200)
            for (method, path, body) in [
                ("POST", "/v1/refresh", Self.refreshBody),
                ("DELETE", "/v1/organisations/demo/libraries/ACTIVE", nil),
                ("POST", "/v1/organisations/demo/libraries/ACTIVE/schedule", nil),
            ] as [(String, String, String?)] {
                let answer = try await Self.curl(fixture, method, path, body: body)
                #expect(answer.status == 403, "\(method) \(path)")
                #expect(answer.body["error"] as? String == "forbidden")
            }
            // The grant is still there: the refused revoke did nothing.
            #expect(try await fixture.daemon.send(.GET, Self.tokenPath).status == 200)
            // The CLI, as nobody, needs only the configuration file (not the key) to ask for a token.
            let cli = try await Self.asNobody([Self.binary.path, "token", "--config", fixture.directory.appendingPathComponent("tokend.toml").path,
                                         "--organisation", "demo", "--library", "ACTIVE"])
            #expect(cli.status == 0, "\(cli.stderr)")
            #expect(cli.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == token.body["access_token"] as? String)
        }
    }

    @Test("a peer no table allows gets 403 with what to add, and never a token; the CLI exits 77")
    func allowedNothing() async throws {
        let fixture = try await Self.start(tables: """
            [[api_client]]
            user = "root"
            organisations = ["*"]
            allow = ["token"]
            """)
        try await withTeardown({ await fixture.stop() }) {
            let answer = try await Self.curl(fixture, "GET", Self.tokenPath)
            #expect(answer.status == 403)
            #expect(answer.body["error"] as? String == "forbidden")
            #expect(answer.body["access_token"] == nil)
            let reason = answer.body["reason"] as? String ?? ""
            #expect(reason.contains("uid 65534"))
            #expect(reason.contains("[[api_client]]"))
            #expect(reason.contains("allow = [\"token\"]"))
            #expect(try await Self.curl(fixture, "GET", "/v1/status").status == 403)

            let cli = try await Self.asNobody([Self.binary.path, "token", "--config", fixture.directory.appendingPathComponent("tokend.toml").path,
                                         "--organisation", "demo", "--library", "ACTIVE"])
            #expect(cli.status == 77)
            #expect(cli.stdout.isEmpty)
            #expect(cli.stderr.contains("the daemon refused"))
            #expect(cli.stderr.contains("administrator"))
            #expect(cli.stderr.contains("uid 65534"))

            // refresh as well: 77 with the daemon's reason, and nothing refreshed.
            let requests = fixture.emulator.stats().total(.token)
            let refresh = try await Self.asNobody([Self.binary.path, "refresh", "--config", fixture.directory.appendingPathComponent("tokend.toml").path,
                                             "--organisation", "demo", "--library", "ACTIVE"])
            #expect(refresh.status == 77, "\(refresh.stderr)")
            #expect(refresh.stdout.isEmpty)
            #expect(refresh.stderr.contains("the daemon refused") && refresh.stderr.contains("uid 65534"), "\(refresh.stderr)")
            #expect(fixture.emulator.stats().total(.token) == requests, "a refused refresh reached iManage")
        }
    }

    @Test("a peer allowed token for one organisation reads its token, and gets 403 for another and for refresh")
    func oneOrganisation() async throws {
        let fixture = try await Self.start(tables: """
            [[api_client]]
            user = 65534
            organisations = ["demo"]
            allow = ["token"]
            [[api_client]]
            group = "nogroup"
            organisations = ["off"]
            allow = ["status"]
            """)
        try await withTeardown({ await fixture.stop() }) {
            let token = try await Self.curl(fixture, "GET", Self.tokenPath)
            #expect(token.status == 200)
            let other = try await Self.curl(fixture, "GET", "/v1/organisations/off/libraries/ACTIVE/token")
            #expect(other.status == 403)
            #expect((other.body["reason"] as? String)?.contains("organisation off") == true)
            #expect(try await Self.curl(fixture, "POST", "/v1/refresh", body: Self.refreshBody).status == 403)
            // Status shows only the organisations allowed: off, not demo and its grant.
            let status = try await Self.curl(fixture, "GET", "/v1/status")
            #expect(status.status == 200)
            let organisations = (status.body["organisations"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(organisations == ["off"])
            #expect((status.body["libraries"] as? [Any])?.isEmpty == true)
            // Root (this process) may do everything, tables or not.
            #expect(try await fixture.daemon.send(.POST, "/v1/refresh", body: Data(Self.refreshBody.utf8)).status == 200)
            let rootStatus = try AnyJSON.object(try await fixture.daemon.send(.GET, "/v1/status"))
            #expect((rootStatus["libraries"] as? [Any])?.count == 1)

            let cli = try await Self.asNobody([Self.binary.path, "token", "--config", fixture.directory.appendingPathComponent("tokend.toml").path,
                                         "--organisation", "off", "--library", "ACTIVE"])
            #expect(cli.status == 77)
        }
    }
}

/// Whether the tests can run a client as nobody in nogroup: as root, with setpriv and curl.
func canSwitchToNobody() -> Bool {
    geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")
        && SocketPermissions.groupID(named: "nogroup") == 65534
}

enum AnyJSON {
    static func object(_ answer: DaemonClient.Answer) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: answer.body) as? [String: Any] ?? [:]
    }
}
