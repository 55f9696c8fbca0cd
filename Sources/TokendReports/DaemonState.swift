/// Whether the daemon is running on the database a report was read from.
public struct DaemonState: Sendable, Equatable {
    public var running: Bool
    /// The pid written in its instance lock, when running.
    public var pid: Int32?

    public init(running: Bool, pid: Int32? = nil) {
        self.running = running
        self.pid = pid
    }
}
