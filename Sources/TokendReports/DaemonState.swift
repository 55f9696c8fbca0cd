/// Whether the daemon is running on the database a report was read from.
public struct DaemonState: Sendable, Equatable {
    public var running: Bool
    /// The pid written in its instance lock, when running.
    public var pid: Int32?
    /// The listeners it could not open at start (`MissingListenersFile`): each a warning.
    public var missingListeners: [MissingListener]
    /// The version of the imanage-tokend that made the report: the daemon's own for
    /// `GET /v1/status`; for `status`, the installed binary's, which the daemon runs once restarted.
    public var version: String

    public init(running: Bool, pid: Int32? = nil, missingListeners: [MissingListener] = [], version: String = TokendVersion.current) {
        self.running = running
        self.pid = pid
        self.missingListeners = missingListeners
        self.version = version
    }
}
