/// Whether the daemon is running on the database a report was read from.
public struct DaemonState: Sendable, Equatable {
    /// On SQLite, a daemon holds the instance lock; on PostgreSQL, at least one node is alive.
    public var running: Bool
    /// The pid written in its instance lock, when running; on PostgreSQL, this host's live daemon's.
    public var pid: Int32?
    /// The listeners it could not open at start (`MissingListenersFile`): each a warning.
    public var missingListeners: [MissingListener]
    /// The version of the imanage-tokend that made the report: the daemon's own for
    /// `GET /v1/status`; for `status`, the installed binary's, which the daemon runs once restarted.
    public var version: String
    /// The daemons of the database (`nodes`): every heartbeat row on PostgreSQL, the lock's holder on SQLite.
    public var nodes: [DaemonNode]
    /// The PostgreSQL URL (no password) when the database is shared by several daemons; `nil` for SQLite.
    public var sharedDatabase: String?

    public init(
        running: Bool, pid: Int32? = nil, missingListeners: [MissingListener] = [], version: String = TokendVersion.current,
        nodes: [DaemonNode] = [], sharedDatabase: String? = nil
    ) {
        self.running = running
        self.pid = pid
        self.missingListeners = missingListeners
        self.version = version
        self.nodes = nodes
        self.sharedDatabase = sharedDatabase
    }

    /// The daemons of a shared database, as their heartbeats say: running when at least one is
    /// alive; `pid` that of the one live daemon on `host` (this machine), whose missing listeners count.
    public static func shared(
        database: String, nodes: [DaemonNode], host: String, missingListeners: (Int32) -> [MissingListener] = { _ in [] }
    ) -> DaemonState {
        let local = nodes.filter { $0.alive && $0.host == host }
        let pid = local.count == 1 ? Int32(clamping: local[0].pid) : nil
        return DaemonState(
            running: nodes.contains(where: \.alive), pid: pid, missingListeners: pid.map(missingListeners) ?? [],
            nodes: nodes, sharedDatabase: database)
    }
}
