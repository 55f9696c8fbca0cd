import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// One HTTP listener of the daemon (the token API, the web pages, metrics) as a service of the
/// daemon's one service group: the one way a listener is started. It serves until the group
/// shuts down gracefully (requests in flight are finished).
///
/// A listener that cannot be opened does not end the group: `run()` settles ``outcome`` with the
/// reason and returns, and the group (see ``serviceConfiguration``) goes on without it. Whoever
/// must know awaits ``outcome``: the daemon says READY=1 only once every listener has listened or failed.
///
/// ```swift
/// let listener = HTTPListener(name: "web pages", address: .hostname("127.0.0.1", port: 0), router: router, limits: .web, logger: logger)
/// // in a ServiceGroup: services: [listener.serviceConfiguration, …]
/// if case .listening(let port) = await listener.outcome { … }
/// ```
public final class HTTPListener: Service, Sendable {
    /// What the listener serves, as the journal and `status` name it ("token API").
    public let name: String
    private let application: any Service
    private let latch: OutcomeLatch
    private let listened: ListenedFlag
    private let prepare: @Sendable () throws -> Void
    private let cannotListen: @Sendable (any Error) -> any Error
    private let afterStop: @Sendable () -> Void

    /// - Parameters:
    ///   - counter: counts the listener's open connections (tests read it).
    ///   - tooLarge: shapes the answer to a body over the limit (JSON for an API).
    ///   - prepare: runs before binding; an error it throws is the listener's failure, as thrown.
    ///   - onListening: runs once bound, before the first connection is accepted (a socket's
    ///     permissions); an error it throws is the listener's failure, and the listener closes.
    ///   - cannotListen: words why binding failed (the error Hummingbird threw, or that the server
    ///     stopped before it listened).
    ///   - afterStop: runs once the listener, having listened, is down (a socket file's removal).
    public init<Responder: HTTPResponderBuilder>(
        name: String, address: BindAddress, router: Responder, limits: ListenerLimits, counter: ConnectionCounter = ConnectionCounter(),
        serverName: String? = nil, tooLarge: @escaping @Sendable (Int) -> (contentType: String, body: String) = RequestSizeLimit.plainText,
        logger: Logger,
        prepare: @escaping @Sendable () throws -> Void = {},
        onListening: @escaping @Sendable (_ port: Int) async throws -> Void = { _ in },
        cannotListen: @escaping @Sendable (any Error) -> any Error = { $0 },
        afterStop: @escaping @Sendable () -> Void = {}
    ) where Responder.Responder.Context: RequestContext, Responder.Responder.Context.Source == ApplicationRequestContextSource {
        self.name = name
        self.prepare = prepare
        self.cannotListen = cannotListen
        self.afterStop = afterStop
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)
        let latch = OutcomeLatch()
        let listened = ListenedFlag()
        self.latch = latch
        self.listened = listened
        application = Application(
            router: router,
            server: .limited(limits, counter: counter, tooLarge: tooLarge, logger: quiet),
            configuration: ApplicationConfiguration(address: address, serverName: serverName),
            onServerRunning: { channel in
                listened.set()
                let port = channel.localAddress?.port ?? 0  // 0 on a Unix socket
                do {
                    try await onListening(port)
                    latch.settle(.listening(port: port))
                } catch {
                    latch.settle(.failed(error))
                }
            },
            logger: quiet)
    }

    /// This listener in a service group: its end, even a failure to listen, never ends the group.
    public var serviceConfiguration: ServiceGroupConfiguration.ServiceConfiguration {
        .init(service: self, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore)
    }

    /// Whether it listens (and on which port; 0 on a Unix socket), or why it could not; known once
    /// it has bound or failed.
    public var outcome: ListenerOutcome {
        get async { await latch.value }
    }

    /// Serves until graceful shutdown; returns at once, the outcome settled, when it cannot listen.
    public func run() async {
        do { try prepare() } catch {
            latch.settle(.failed(error))
            return
        }
        let application = self.application
        let latch = self.latch
        let cannotListen = self.cannotListen
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await application.run()
                    latch.settle(.failed(cannotListen(HTTPServerStartError(reason: "the server stopped before it listened"))))
                } catch {
                    latch.settle(.failed(cannotListen(error)))
                }
            }
            // Bound but refused by `onListening`: close it.
            if case .failed = await latch.value { group.cancelAll() }
        }
        if listened.isSet { afterStop() }
    }
}

/// What became of a listener's start.
public enum ListenerOutcome: Sendable {
    /// It listens, on this port (the one the kernel chose for port 0; 0 on a Unix socket).
    case listening(port: Int)
    /// It could not listen, and why.
    case failed(any Error)
}

/// Why a listener could not be started.
public struct HTTPServerStartError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
    public init(reason: String) { self.reason = reason }
}

/// Whether the server bound (so there is something to clean up after it).
final class ListenedFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// A value set once and awaited by any number of tasks.
final class OutcomeLatch: Sendable {
    private let state = Mutex<(value: ListenerOutcome?, waiting: [CheckedContinuation<ListenerOutcome, Never>])>((nil, []))

    /// Sets the value; only the first call counts.
    func settle(_ outcome: ListenerOutcome) {
        let waiting = state.withLock { state -> [CheckedContinuation<ListenerOutcome, Never>] in
            guard state.value == nil else { return [] }
            state.value = outcome
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume(returning: outcome) }
    }

    var value: ListenerOutcome {
        get async {
            await withCheckedContinuation { continuation in
                let settled = state.withLock { state -> ListenerOutcome? in
                    if let value = state.value { return value }
                    state.waiting.append(continuation)
                    return nil
                }
                if let settled { continuation.resume(returning: settled) }
            }
        }
    }
}
