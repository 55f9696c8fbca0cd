import Dispatch
import Foundation
import HeapModule

/// Wakes the engine when grants fall due.
///
/// One `DispatchSourceTimer` is armed at the earliest deadline of a min-heap of (deadline, grant).
/// Measured on this kind of machine, 100,000 separate timers cost 48 MB and a second of CPU when
/// they fire together; one re-armed timer over a heap costs under 3 MB. Deadlines are wall-clock
/// (`DispatchWallTime`), so a suspended machine or a clock step still wakes on time. Nothing
/// polls: with nothing due the timer is idle and the process sleeps.
///
/// A grant may appear more than once after it is rescheduled; the engine drops an entry whose
/// deadline no longer matches the grant's stored next refresh.
///
/// With a `coalescing` window, a deadline still ahead is woken for up to that much later (and at
/// most a tenth of the time a single grant was scheduled ahead: its jitter), with
/// every other entry that fell due meanwhile: the engine then claims and writes them together
/// (one durable commit for many, instead of two each). Never earlier than a deadline; an entry
/// already due when scheduled (`scheduleNow`, a refresh asked for) is woken at once.
public final class GrantScheduler: @unchecked Sendable {
    /// One pending wake-up.
    public struct Entry: Comparable, Sendable {
        public var deadline: Date
        public var grantID: Int64
        /// How much later than `deadline` it may be woken to gather others: set when scheduled.
        var slack: TimeInterval = 0

        public static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.deadline, lhs.grantID) < (rhs.deadline, rhs.grantID)
        }
    }

    private let lock = NSLock()
    private var heap = Heap<Entry>()
    /// When the timer is armed to fire.
    private var armedDeadline: Date?
    private let timer: any DispatchSourceTimer
    private let now: @Sendable () -> Date
    /// How much later than a future deadline the timer may fire, to gather entries due meanwhile.
    private let coalescing: TimeInterval
    private let onDue: @Sendable ([Entry]) -> Void
    private var wakeUps = 0
    private var worstLateness: TimeInterval = 0

    /// - Parameters:
    ///   - queue: where `onDue` runs.
    ///   - now: the wall clock (injectable for tests).
    ///   - coalescing: how much later than a future deadline the timer may fire (0: on time).
    ///   - onDue: receives every entry whose deadline has passed, earliest first.
    public init(
        queue: DispatchQueue, now: @escaping @Sendable () -> Date = { Date() }, coalescing: TimeInterval = 0,
        onDue: @escaping @Sendable ([Entry]) -> Void
    ) {
        self.now = now
        self.coalescing = max(0, coalescing)
        self.onDue = onDue
        timer = DispatchSource.makeTimerSource(flags: [.strict], queue: queue)
        timer.setEventHandler { [weak self] in self?.fire() }
        timer.schedule(wallDeadline: .distantFuture)
        timer.activate()
    }

    deinit { timer.cancel() }

    /// Stops waking: nothing more is handed out (the engine has stopped).
    public func stop() {
        timer.cancel()
    }

    /// Wakes for `grantID` at `deadline` (at once if it has passed).
    public func schedule(_ grantID: Int64, at deadline: Date) {
        lock.lock()
        heap.insert(withSlack(Entry(deadline: deadline, grantID: grantID)))
        rearmIfNeeded()
        lock.unlock()
    }

    /// Schedules many grants at once (start-up, a paused organisation resuming), arming the timer
    /// once. Such a wave is paced by the engine and overdue already, so the whole coalescing window
    /// may gather it.
    public func schedule(_ entries: some Sequence<Entry>) {
        lock.lock()
        for var entry in entries {
            entry.slack = coalescing
            heap.insert(entry)
        }
        rearmIfNeeded()
        lock.unlock()
    }

    /// Entries waiting, and how often the timer has fired (for tests and the benchmark).
    public var statistics: (pending: Int, wakeUps: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (heap.count, wakeUps)
    }

    /// The latest any entry was handed out after its deadline, since the last call (for the benchmark).
    public func takeWorstLateness() -> TimeInterval {
        lock.lock()
        defer { lock.unlock() }
        let worst = worstLateness
        worstLateness = 0
        return worst
    }

    /// The earliest pending deadline.
    public var nextDeadline: Date? {
        lock.lock()
        defer { lock.unlock() }
        return heap.min?.deadline
    }

    /// The coalescing window, but never more than a tenth of the time until the deadline: the
    /// refresh policy's own jitter (±10% of the planned interval), so a short-lived token is not
    /// refreshed a second late. Called with the lock held.
    private func withSlack(_ entry: Entry) -> Entry {
        var entry = entry
        entry.slack = min(coalescing, max(0, entry.deadline.timeIntervalSince(now())) * 0.1)
        return entry
    }

    private func fire() {
        lock.lock()
        wakeUps += 1
        armedDeadline = nil
        let current = now()
        var due: [Entry] = []
        while let earliest = heap.min, earliest.deadline <= current {
            worstLateness = max(worstLateness, current.timeIntervalSince(earliest.deadline))
            due.append(heap.removeMin())
        }
        rearmIfNeeded()
        lock.unlock()
        if !due.isEmpty { onDue(due) }
    }

    /// Arms the timer at the heap's earliest deadline (plus the coalescing window when that
    /// deadline is still ahead) when that is sooner than what is armed.
    /// The deadline is turned into a wall-clock time through the injected `now`, so a test clock
    /// (or the benchmark's shifted one) and the timer agree on when a grant is due; with the real
    /// clock it is the deadline itself. Called with the lock held.
    private func rearmIfNeeded() {
        guard let earliest = heap.min?.deadline else { return }
        let current = now()
        let target = earliest > current ? earliest.addingTimeInterval(heap.min?.slack ?? 0) : earliest
        if let armedDeadline, armedDeadline <= target { return }
        armedDeadline = target
        let delay = max(target.timeIntervalSince(current), 0)
        timer.schedule(wallDeadline: .now() + delay, leeway: .milliseconds(10))
    }
}
