/// Whether the daemon is running on the database a report was read from.
public struct DaemonState: Sendable, Equatable {
    public var running: Bool
    /// The pid written in its instance lock, when running.
    public var pid: Int32?
    /// The listeners it could not open at start (`MissingListenersFile`): each a warning.
    public var missingListeners: [MissingListener]

    public init(running: Bool, pid: Int32? = nil, missingListeners: [MissingListener] = []) {
        self.running = running
        self.pid = pid
        self.missingListeners = missingListeners
    }
}
