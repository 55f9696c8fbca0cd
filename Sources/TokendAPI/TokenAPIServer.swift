import Foundation
import Hummingbird
import Logging
import Synchronization
import TokendHTTP

/// The local token API: HTTP over the Unix socket `api_socket`, mode 0660, group `imanage-tokend`
/// (or `api_socket_group`); each request allowed by `APIAccessPolicy` for its peer, and the
/// listener held to `ListenerLimits`. Served by ``listener``, a service of the daemon's group.
///
/// ```swift
/// let api = TokenAPIServer(socketPath: path, service: service, logger: logger)
/// // services: [api.listener.serviceConfiguration, …]; the socket file goes when the listener stops
/// ```
public final class TokenAPIServer: Sendable {
    public let socketPath: String
    /// Listens on `socketPath` once run; its outcome says when the socket has its permissions.
    public let listener: HTTPListener

    /// The token API on `socketPath`, not yet listening.
    ///
    /// Before listening, a stale socket file (left by a daemon that died) is removed; one another
    /// live process serves is left alone and refused, and so is a path that is not a socket. The
    /// socket is created under umask 0177 (so it is never wider than 0600 for a moment), then set
    /// to 0660 and given `group` (by default the configuration's `api_socket_group`, or
    /// `imanage-tokend`) before the first request is accepted: see `SocketPermissions.apply`.
    public init(
        socketPath: String, service: TokenAPIService, group: String? = nil, limits: ListenerLimits = .api,
        logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.socketPath = socketPath
        let configuredGroup = service.engine.configuration.apiSocketGroup
        let socketGroup = group ?? configuredGroup ?? SocketPermissions.defaultGroup
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

        let previousMask = MaskBox()
        listener = HTTPListener(
            name: "token API", address: .unixDomainSocket(path: socketPath), router: router, limits: limits, serverName: "imanage-tokend",
            tooLarge: { maximum in
                ("application/json; charset=utf-8",
                 "{\"error\": \"too_large\", \"reason\": \"the request body is larger than \(maximum) bytes: send a smaller request\"}")
            },
            logger: quiet,
            prepare: {
                var existing = stat()
                if lstat(socketPath, &existing) == 0 {
                    guard existing.st_mode & mode_t(S_IFMT) == mode_t(S_IFSOCK) else { throw APIServerError.notASocket(path: socketPath) }
                    if UnixSocketProbe.accepts(path: socketPath) { throw APIServerError.socketInUse(path: socketPath) }
                    unlink(socketPath)
                }
                previousMask.value = umask(0o177)
            },
            onListening: { _ in
                previousMask.restore()
                let outcome = try SocketPermissions.apply(
                    path: socketPath, group: socketGroup, explicit: group != nil || configuredGroup != nil)
                socketGID.value = outcome.group
                if let note = outcome.note { logger.notice("\(note)") }
                logger.info("token API listening on \(socketPath)")
            },
            cannotListen: { error in
                previousMask.restore()
                return APIServerError.cannotListen(path: socketPath, reason: String(describing: error))
            },
            afterStop: { unlink(socketPath) })
    }
}

/// The umask in force before the socket was created, put back once it is (or could not be).
private final class MaskBox: Sendable {
    private let stored = Mutex<mode_t?>(nil)
    var value: mode_t? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
    func restore() {
        if let previous = stored.withLock({ value -> mode_t? in defer { value = nil }; return value }) { umask(previous) }
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
