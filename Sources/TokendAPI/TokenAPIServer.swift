import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import TokendHTTP

/// The local token API: HTTP over the Unix socket `api_socket`, mode 0660, group `imanage-tokend`
/// (or `api_socket_group`); each request allowed by `APIAccessPolicy` for its peer, and the
/// listener held to `ListenerLimits`.
///
/// ```swift
/// let server = try await TokenAPIServer.start(socketPath: path, service: service, logger: logger)
/// …
/// await server.stop()   // stops listening and removes the socket file
/// ```
public final class TokenAPIServer: Sendable {
    public let socketPath: String
    private let server: RunningHTTPServer

    private init(socketPath: String, server: RunningHTTPServer) {
        self.socketPath = socketPath
        self.server = server
    }

    /// Listens on `socketPath` and returns once the socket has its permissions.
    ///
    /// A stale socket file (left by a daemon that died) is removed first; one another live
    /// process serves is left alone and refused, and so is a path that is not a socket. The socket is created under umask 0177 (so it
    /// is never wider than 0600 for a moment), then set to 0660 and given `group` (by default
    /// the configuration's `api_socket_group`, or `imanage-tokend`): see `SocketPermissions.apply`.
    public static func start(
        socketPath: String, service: TokenAPIService, group: String? = nil, limits: ListenerLimits = .api,
        logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> TokenAPIServer {
        let configuredGroup = service.engine.configuration.apiSocketGroup
        let socketGroup = group ?? configuredGroup ?? SocketPermissions.defaultGroup
        var existing = stat()
        if lstat(socketPath, &existing) == 0 {
            guard existing.st_mode & mode_t(S_IFMT) == mode_t(S_IFSOCK) else { throw APIServerError.notASocket(path: socketPath) }
            if UnixSocketProbe.accepts(path: socketPath) { throw APIServerError.socketInUse(path: socketPath) }
            unlink(socketPath)
        }
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        // Filled in once the socket has its group, before the first request can arrive (the
        // socket is 0600 and root's or the daemon's alone until then).
        let socketGID = SocketGroupBox()
        let engine = service.engine
        let access = APIAccessGate(
            clients: { engine.configuration.apiClients }, socketGroup: { socketGID.value }, logger: logger, now: now)
        let router = Router(context: TokenAPIRequestContext.self)
        TokenAPIRoutes(service: service, access: access).register(on: router)

        let previousMask = umask(0o177)
        let running: RunningHTTPServer
        do {
            running = try await RunningHTTPServer.start(
                router: router, address: .unixDomainSocket(path: socketPath), limits: limits, serverName: "imanage-tokend",
                tooLarge: { maximum in
                    ("application/json; charset=utf-8",
                     "{\"error\": \"too_large\", \"reason\": \"the request body is larger than \(maximum) bytes: send a smaller request\"}")
                }, logger: quiet)
        } catch {
            umask(previousMask)
            throw APIServerError.cannotListen(path: socketPath, reason: String(describing: error))
        }
        umask(previousMask)
        let server = TokenAPIServer(socketPath: socketPath, server: running)
        do {
            let outcome = try SocketPermissions.apply(
                path: socketPath, group: socketGroup, explicit: group != nil || configuredGroup != nil)
            socketGID.value = outcome.group
            if let note = outcome.note { logger.notice("\(note)") }
        } catch {
            await server.stop()
            throw error
        }
        logger.info("token API listening on \(socketPath)")
        return server
    }

    /// Stops listening (requests in flight get a few seconds) and removes the socket file.
    public func stop() async {
        await server.stop()
        unlink(socketPath)
    }
}

/// The API socket's group once it is set.
private final class SocketGroupBox: Sendable {
    private let stored = Mutex<gid_t?>(nil)
    var value: gid_t? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
