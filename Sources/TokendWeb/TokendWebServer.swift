import Foundation
import Hummingbird
import IManageClient
import Logging
import NIOCore
import ServiceLifecycle
import TokendConfig
import TokendEngine
import TokendHTTP
import TokendPolicy
import TokendStore

/// The daemon's web pages on `listen`: a person's own authorisation (`/organisations/{org}/authorise`,
/// `/organisations/{org}/me`), the Tracker library authorization page (`/organisations/{org}/tracker`)
/// and the OAuth callback (`/oauth/callback`). Server-rendered HTML, one stylesheet, no JavaScript.
public final class TokendWebServer: Sendable {
    /// The port listened on (the one picked when `listen` asked for port 0).
    public let port: Int
    /// What the routes work with (tests start sign-ins through it and read the spent states).
    let environment: WebEnvironment
    private let server: RunningHTTPServer

    private init(port: Int, environment: WebEnvironment, server: RunningHTTPServer) {
        self.port = port
        self.environment = environment
        self.server = server
    }

    /// Starts serving and returns once the server listens.
    ///
    /// - Parameters:
    ///   - engine: gives the running organisations (after SIGHUP reloads) and schedules new grants.
    ///   - listen: where to listen; by default the configuration's `listen`.
    ///   - limits: what the listener lets clients take (tests make the idle timeout short).
    ///   - now: the clock (tests move it to expire a `state`).
    public static func start(
        configuration: TokendConfiguration, store: any GrantStore, client: IManageHTTPClient, engine: RefreshEngine,
        logger: Logger, listen: ListenAddress? = nil, stateLifetime: TimeInterval = 600, limits: ListenerLimits = .web,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> TokendWebServer {
        // The pages seal their cookies with keys derived from the token key: never without one.
        guard let tokenKey = configuration.key?.reveal() else { throw StoreError.noKey(path: configuration.database) }
        let environment = WebEnvironment(
            publicURL: configuration.publicURL, redirectURL: configuration.redirectURL,
            secureCookies: configuration.publicURL.scheme?.lowercased() == "https",
            store: store, engine: engine,
            flow: AuthorizationFlow(
                client: client,
                admission: GrantAdmission(store: store, client: client, policy: RefreshPolicy(settings: configuration.refresh)),
                redirectURL: configuration.redirectURL),
            states: AuthorizationStates(tokenKey: tokenKey, lifetime: stateLifetime),
            sessions: SessionSigner(tokenKey: tokenKey),
            failureNotes: CookieSealer(tokenKey: tokenKey, purpose: "callback failure cookie v1"),
            logger: logger, now: now)

        // HEAD is answered as GET, without the body.
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: SecurityHeaders(
            authorizeOrigins: { Array(Set(engine.organisations.map { WebEnvironment.origin(of: $0.authorizationBase) })).sorted() },
            logger: logger))
        router.get("/static/tokend.css") { _, _ in Stylesheet.response }
        AuthorizeRoutes(environment: environment).register(on: router)
        CallbackRoute(environment: environment).register(on: router)
        FailureRoute(environment: environment).register(on: router)
        MeRoutes(environment: environment).register(on: router)
        TrackerRoutes(environment: environment).register(on: router)

        let address = listen ?? configuration.listen
        let running: RunningHTTPServer
        do {
            // Idle timeout, connection limit, request and header sizes: ListenerLimits.web.
            running = try await RunningHTTPServer.start(
                router: router, address: .hostname(address.host, port: address.port), limits: limits, logger: logger)
        } catch {
            throw WebServerError.cannotListen(address: address.description, reason: String(describing: error))
        }
        return TokendWebServer(port: running.port, environment: environment, server: running)
    }

    /// Stops listening and returns once the server is down.
    public func stop() async {
        await server.stop()
    }
}

/// The web pages could not be served.
public enum WebServerError: Error, CustomStringConvertible {
    case cannotListen(address: String, reason: String)

    public var description: String {
        switch self {
        case .cannotListen(let address, let reason):
            "cannot serve the web pages on \(address) (listen): \(reason); free the port or change listen in the configuration"
        }
    }
}
