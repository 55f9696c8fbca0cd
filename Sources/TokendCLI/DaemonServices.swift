import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TokendNotify
import UnixSignals

/// SIGTERM and SIGINT as a service of the daemon's group: the first one received ends it, and the
/// group shuts down gracefully (the listeners, then the engine with its grace, in reverse order).
///
/// The signals are trapped at the very start of `run`, before anything is opened, not when the
/// group starts (as `gracefulShutdownSignals:` would): a stop asked for while the daemon is still
/// starting (found by the fault matrix: a SIGTERM just after the socket appeared killed the
/// process outright) is kept in the sequence and answered with a clean stop once the group runs.
final class StopOnSignals: Service, Sendable {
    private let signals: UnixSignalsSequence
    private let onSignal: @Sendable (UnixSignal) -> Void
    private let receivedBox = Mutex<UnixSignal?>(nil)

    /// Traps SIGTERM and SIGINT now; `onSignal` hears the first one.
    init(onSignal: @escaping @Sendable (UnixSignal) -> Void) async {
        for number in [SIGTERM, SIGINT] { signal(number, SIG_IGN) }
        signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        self.onSignal = onSignal
    }

    /// The signal that stopped the daemon, if one did.
    var received: UnixSignal? { receivedBox.withLock { $0 } }

    /// In the group: ends it gracefully once a signal arrives.
    var serviceConfiguration: ServiceGroupConfiguration.ServiceConfiguration {
        .init(service: self, successTerminationBehavior: .gracefullyShutdownGroup)
    }

    func run() async throws {
        for await signal in signals.cancelOnGracefulShutdown() {
            receivedBox.withLock { $0 = signal }
            onSignal(signal)
            return
        }
    }
}

/// SIGHUP as a service of the daemon's group: each one runs `reload`, one at a time, until the group
/// shuts down. Before the group runs, SIGHUP is ignored (its default action would end the daemon).
struct ReloadOnHangup: Service {
    let signals: UnixSignalsSequence
    let reload: @Sendable () async -> Void

    /// Traps `signal` (SIGHUP in the daemon) from now on.
    init(signal trapped: UnixSignal = .sighup, reload: @escaping @Sendable () async -> Void) async {
        signal(trapped.rawValue, SIG_IGN)
        signals = await UnixSignalsSequence(trapping: trapped)
        self.reload = reload
    }

    func run() async {
        for await _ in signals.cancelOnGracefulShutdown() { await reload() }
    }
}

/// The notifications outbox's delivery as a service of the daemon's group: delivers until the group
/// shuts down (last, after the engine, so the status changes of its last refreshes are queued first).
struct NotificationDelivery: Service {
    let dispatcher: NotificationDispatcher

    func run() async {
        dispatcher.start()
        try? await gracefulShutdown()
        await dispatcher.stop()
    }
}
