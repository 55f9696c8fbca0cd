import ArgumentParser
import Dispatch
import IManageEmulator

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `imanage-emulator`: serves the demo iManage Work deployment on loopback until stopped.
@main
struct EmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imanage-emulator",
        abstract: "An emulated iManage Work server (OAuth 2.0 and the REST API) for demos and tests.",
        discussion: """
            Serves the demo deployment: customer 1, libraries ACTIVE, ARCHIVE and LITIGATION, \
            users ALICE, BOB and CAROL, and the OAuth client "tokend-demo" (secret "demo-secret"), \
            which may redirect to any loopback http(s) URL. Point the daemon's authorization, \
            token and endpoint URLs at the printed base URL.

            iManage paths: /auth/oauth2/authorize, /auth/oauth2/token, /api, \
            /work/api/v2/customers/1/libraries and \
            /work/api/v2/customers/1/libraries/{library}/groups/NRTADMIN/members. \
            The control API (faults, revoking users, minting grants, stats) is listed at GET /_emulator/.

            Examples:
              imanage-emulator
              imanage-emulator --port 8400 --access-token-lifetime 60 --rotation --grace 30
              curl -s http://127.0.0.1:8400/_emulator/stats

            Stops cleanly on SIGINT (Ctrl-C) or SIGTERM. All state lives in memory and is lost \
            when it stops.
            """
    )

    @Option(help: "Address to listen on. Keep it on loopback: this is not a secure server.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free port).")
    var port = 8400

    @Option(help: ArgumentHelp("Seconds an access token lives.", valueName: "seconds"))
    var accessTokenLifetime = 1800

    @Option(help: ArgumentHelp("Seconds a refresh token lives (default 365 days).", valueName: "seconds"))
    var refreshTokenLifetime = 365 * 24 * 3600

    @Flag(help: "Issue a new refresh token at every refresh; reusing an old one revokes the whole grant.")
    var rotation = false

    @Option(help: ArgumentHelp("With --rotation: seconds a replaced refresh token still works.", valueName: "seconds"))
    var grace = 0

    @Flag(help: "Leave expires_in out of token answers (clients must assume 1800 s).")
    var noExpiresIn = false

    @Flag(help: "Refuse authorization requests without a PKCE S256 code_challenge.")
    var requirePKCE = false

    @Option(help: ArgumentHelp(
        "Add this many libraries LIB00001, LIB00002, … with ALICE as NRTADMIN (for crash and fault runs).", valueName: "count"))
    var libraries = 0

    @Option(help: ArgumentHelp(
        "Serve this many customers: customer 1 as above, and for each k from 2 on ADMINk (NRTADMIN of its own ACTIVE and ARCHIVE) and USERk, as cloud customers share one host.",
        valueName: "count"))
    var customers = 1

    @Flag(help: "Keep every token, code and PKCE verifier that passes through, listed at GET /_emulator/secrets (for tests).")
    var recordSecrets = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535.") }
        guard accessTokenLifetime >= 1 else { throw ValidationError("--access-token-lifetime must be at least 1.") }
        guard refreshTokenLifetime >= 1 else { throw ValidationError("--refresh-token-lifetime must be at least 1.") }
        guard grace >= 0 else { throw ValidationError("--grace must be 0 or more.") }
        if grace > 0 && !rotation { throw ValidationError("--grace only makes sense with --rotation.") }
        guard (1...20).contains(customers) else { throw ValidationError("--customers must be 1...20.") }
        guard (0...100_000).contains(libraries) else { throw ValidationError("--libraries must be 0...100000.") }
    }

    func run() async throws {
        var configuration = EmulatorConfiguration.demo(customers: customers)
        configuration.host = host
        configuration.port = port
        configuration.accessTokenLifetime = accessTokenLifetime
        configuration.refreshTokenLifetime = refreshTokenLifetime
        configuration.rotatesRefreshTokens = rotation
        configuration.rotationGraceSeconds = grace
        configuration.includesExpiresIn = !noExpiresIn
        configuration.requirePKCE = requirePKCE
        configuration.libraries += (0..<libraries).map {
            EmulatorConfiguration.Library(id: String(format: "LIB%05d", $0 + 1), nrtAdmins: ["ALICE"])
        }
        configuration.recordsSecrets = recordSecrets

        let signals = TerminationSignals()
        let emulator = try await IManageEmulator.start(configuration)
        print("iManage Work emulator listening on \(emulator.baseURL)")
        print("  OAuth client: tokend-demo / demo-secret (any loopback redirect URI)")
        print("  Demo sign-ins (fake demo data):")
        for user in configuration.users {
            print("    \(user.id.padding(6)) \(user.email.padding(22)) password: \(user.password)  customer \(user.customerID ?? configuration.customerID)")
        }
        print("  Control API: \(emulator.baseURL)/_emulator/   (Ctrl-C to stop)")
        // Flush now, so a script reading the base URL through a pipe sees it at once.
        fflush(nil)

        let signal = await signals.next()
        print("Received \(signal == SIGTERM ? "SIGTERM" : "SIGINT"), stopping.")
        await emulator.stop()
        fflush(nil)
    }
}

/// Turns SIGINT and SIGTERM into an awaitable event (instead of the default: die at once).
final class TerminationSignals {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init() {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.stream = stream
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { @Sendable in continuation.yield(number) }
            source.resume()
            return source
        }
    }

    /// Waits for the first signal.
    func next() async -> Int32 {
        for await number in stream { return number }
        return SIGTERM
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
