import Synchronization

/// Whether the database could be written lately. A full disk or a read-only file makes every
/// refresh fail the same way: that is said once, as an error, and again once it is over, not
/// once per grant and attempt (a thousand grants would otherwise flood the journal).
final class StoreHealth: Sendable {
    private let consecutiveFailures = Mutex(0)

    /// Counts a failure; returns how many came in a row (1: the first, to be logged as an error).
    func failed() -> Int {
        consecutiveFailures.withLock { count in
            count += 1
            return count
        }
    }

    /// Counts a success; returns true when it ends a run of failures (to be logged once).
    func succeeded() -> Bool {
        consecutiveFailures.withLock { count in
            defer { count = 0 }
            return count > 0
        }
    }
}
