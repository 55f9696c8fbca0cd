import Dispatch
import Foundation
import Logging
import Synchronization
import TokendStore

/// Prunes the events table by `[history] keep_days`: a repeating Dispatch timer on the wall clock,
/// first a few minutes after start (after the start-up refreshes), then once a day. Nothing polls:
/// between runs the timer sleeps. Each run deletes in small batches, each its own short
/// transaction with a pause between, so refreshes are never held up; the latest event of each
/// grant is kept (``GrantStore/pruneEvents(olderThan:limit:)``).
///
/// `@unchecked Sendable`: the one mutable part, the Dispatch timer, is thread-safe itself; the rest
/// is immutable or behind a `Mutex`.
public final class EventRetention: @unchecked Sendable {
    public static let interval: TimeInterval = 86_400
    public static let firstRunDelay: TimeInterval = 300
    public static let batchSize = 500

    private let store: any GrantStore
    private let keepDaysBox: Mutex<Int>
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let batchSize: Int
    private let timer: any DispatchSourceTimer
    private let running = Mutex(false)
    private let stopped = Mutex(false)

    public init(
        store: any GrantStore, keepDays: Int, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }, batchSize: Int = EventRetention.batchSize
    ) {
        self.store = store
        keepDaysBox = Mutex(keepDays)
        self.logger = logger
        self.now = now
        self.batchSize = max(1, batchSize)
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "imanage-tokend.retention"))
        timer.setEventHandler { [weak self] in
            guard let self else { return }
            Task { await self.pruneNow() }
        }
        timer.schedule(wallDeadline: .distantFuture)
        timer.activate()
    }

    deinit { timer.cancel() }

    /// `[history] keep_days` in force; a reload sets it, and the next run follows it.
    public var keepDays: Int {
        get { keepDaysBox.withLock { $0 } }
        set { keepDaysBox.withLock { $0 = newValue } }
    }

    /// Arms the timer: first run after `firstRunAfter` seconds, then every `every` seconds.
    public func start(firstRunAfter: TimeInterval = EventRetention.firstRunDelay, every: TimeInterval = EventRetention.interval) {
        timer.schedule(wallDeadline: .now() + firstRunAfter, repeating: every, leeway: .seconds(1))
    }

    /// No more runs; one under way stops after its current batch.
    public func stop() {
        stopped.withLock { $0 = true }
        timer.cancel()
    }

    /// One run: deletes every event older than `keep_days` but the latest of each grant, a batch
    /// at a time. Returns how many were deleted (`0` if a run was already going).
    @discardableResult
    public func pruneNow() async -> Int {
        guard running.withLock({ (flag: inout Bool) -> Bool in
            defer { flag = true }
            return !flag
        }) else { return 0 }
        defer { running.withLock { $0 = false } }
        let days = keepDays
        let cutoff = now().addingTimeInterval(-Double(days) * 86_400)
        var total = 0
        do {
            while true {
                let deleted = try await store.pruneEvents(olderThan: cutoff, limit: batchSize)
                total += deleted
                guard deleted == batchSize, !stopped.withLock({ $0 }) else { break }
                try? await Task.sleep(for: .milliseconds(20))
            }
        } catch {
            logger.warning("pruning events older than \(days) days stopped after \(total): \(error); tried again in a day")
        }
        if total > 0 {
            logger.info("pruned \(total) events older than \(days) days ([history] keep_days), keeping each grant's latest")
        }
        return total
    }
}
