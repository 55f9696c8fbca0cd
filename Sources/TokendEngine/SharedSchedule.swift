import Foundation
import Logging
import Synchronization

/// With a database several daemons share: keeps this daemon's timers in step with what the others
/// do. Every `interval` it asks the database for grants due within the next `horizon` (imported or
/// authorised on another node, refreshed there, or left by a daemon that was killed, once its lease
/// ran out) and hands them to the engine's scheduler; the claim decides which daemon refreshes.
/// A grant scheduled twice costs one look at its record: the engine drops an entry no longer due.
///
/// It also beats this daemon's heartbeat (`nodes`) on every round. Polling alone must work
/// (notifications are not stored), so none is relied on.
public final class SharedSchedule: Sendable {
    public let interval: Duration
    public let horizon: TimeInterval
    /// What was handed to the scheduler and when for: a grant is handed again only when its time moved.
    private let handedOut = Mutex<[Int64: Date]>([:])
    /// Grants due within `horizon`: id, when, and whether its lease ran out (due now).
    public let due: @Sendable (_ before: Date) async throws -> [(id: Int64, at: Date?, abandoned: Bool)]
    public let heartbeat: @Sendable () async throws -> Void
    public let schedule: @Sendable (_ id: Int64, _ at: Date) -> Void
    public let now: @Sendable () -> Date
    public let logger: Logger

    public init(
        interval: Duration = .seconds(5), horizon: TimeInterval = 30,
        due: @escaping @Sendable (_ before: Date) async throws -> [(id: Int64, at: Date?, abandoned: Bool)],
        heartbeat: @escaping @Sendable () async throws -> Void,
        schedule: @escaping @Sendable (_ id: Int64, _ at: Date) -> Void,
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.interval = interval
        self.horizon = horizon
        self.due = due
        self.heartbeat = heartbeat
        self.schedule = schedule
        self.now = now
        self.logger = logger
    }

    /// One round: a heartbeat, then the due grants scheduled. Returns how many were handed over
    /// (a grant whose time has not moved since the last round is not handed again).
    @discardableResult
    public func round() async throws -> Int {
        try await heartbeat()
        let current = now()
        let grants = try await due(current.addingTimeInterval(horizon))
        var handed = 0
        for grant in grants {
            let at = grant.abandoned ? current : max(current, grant.at ?? current)
            let fresh = handedOut.withLock { known in
                if !grant.abandoned, let earlier = known[grant.id], earlier == grant.at ?? current { return false }
                known[grant.id] = grant.at ?? current
                return true
            }
            if fresh {
                schedule(grant.id, at)
                handed += 1
            }
        }
        handedOut.withLock { known in known = known.filter { $0.value > current.addingTimeInterval(-horizon) } }
        return handed
    }

    /// Rounds until cancelled; a failed round is said once until one succeeds again.
    public func run() async {
        var failing = false
        while !Task.isCancelled {
            do {
                try await round()
                if failing { logger.notice("the shared database answers again: the schedule follows the other daemons again") }
                failing = false
            } catch {
                if !failing { logger.error("cannot read the shared schedule from the database (retrying every \(interval)): \(error)") }
                failing = true
            }
            try? await Task.sleep(for: interval)
        }
    }
}
