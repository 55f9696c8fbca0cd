import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells systemd about the service's state (`Type=notify`): ready, reloading, stopping,
/// watchdog pings and a status line. Does nothing when `$NOTIFY_SOCKET` is unset.
///
/// Hand-written, not libsystemd's `sd_notify`: libsystemd is not reachable as a Swift package,
/// and the protocol is one datagram of `KEY=value` lines to `$NOTIFY_SOCKET` (a leading `@`
/// meaning the abstract namespace), which `UnixDatagramSocket` sends.
public struct SystemdNotifier: Sendable {
    /// The socket systemd listens on, or `nil` when not started by systemd as `Type=notify`.
    public let socketPath: String?
    /// How often systemd expects `watchdog()`, when it runs a watchdog for this process.
    /// Ping at half this interval.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, processID: Int32 = getpid()) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        watchdogInterval = Self.watchdogInterval(environment: environment, processID: processID)
    }

    public var isEnabled: Bool { socketPath != nil }

    /// Start-up is complete: systemd considers the service started.
    @discardableResult public func ready() -> Bool { send("READY=1") }

    /// A reload began; send `ready()` when it is done.
    @discardableResult public func reloading() -> Bool {
        send("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())")
    }

    @discardableResult public func stopping() -> Bool { send("STOPPING=1") }

    @discardableResult public func watchdog() -> Bool { send("WATCHDOG=1") }

    /// A one-line status that `systemctl status` shows; newlines become spaces.
    @discardableResult public func status(_ text: String) -> Bool {
        send("STATUS=" + String(text.map { $0.isNewline ? " " : $0 }))
    }

    /// Sends `state` (newline-separated `KEY=value` assignments). Returns whether it was sent;
    /// `false` also when there is no `$NOTIFY_SOCKET`.
    @discardableResult public func send(_ state: String) -> Bool {
        guard let socketPath else { return false }
        return UnixDatagramSocket.sendOnce(Array(state.utf8), to: socketPath)
    }

    /// `$WATCHDOG_USEC`, if set and meant for this process (`$WATCHDOG_PID` unset or ours).
    static func watchdogInterval(environment: [String: String], processID: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0 else {
            return nil
        }
        if let pid = environment["WATCHDOG_PID"], Int32(pid) != processID { return nil }
        return .microseconds(Int64(clamping: microseconds))
    }

    static func monotonicMicroseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000 + UInt64(time.tv_nsec) / 1000
    }
}
