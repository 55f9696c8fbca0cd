import Dispatch
import Foundation
import Synchronization

/// Writes on their way to the writer: refreshes whose claim is durable and whose outcome is not
/// written yet. The writer waits a moment for them (``GroupCommitWriter/linger``).
final class ExpectedWrites: Sendable {
    private let count = Atomic<Int>(0)

    func add(_ delta: Int) { count.add(delta, ordering: .relaxed) }
    var value: Int { max(0, count.load(ordering: .relaxed)) }
}

/// Runs every write of the process on one connection, and commits the writes that arrive
/// together in one durable transaction (group commit).
///
/// A durable commit costs one fsync (about 300 per second on these disks), so a thousand
/// refreshes finishing in the same second must share commits. Each write runs in its own
/// savepoint, so one failing write does not undo the others of its batch, and no caller is
/// told its write is done before the batch's `COMMIT` has returned.
final class GroupCommitWriter: @unchecked Sendable {
    /// One write waiting for its batch: `run` executes inside the transaction, `finish` reports
    /// after the commit (with the commit's error if the batch failed).
    private struct Job {
        let run: (SQLiteConnection) throws -> Void
        let finish: (_ commitError: (any Error)?) -> Void
    }

    private let connection: SQLiteConnection
    private let queue = DispatchQueue(label: "imanage-tokend.store.writer")
    private let lock = NSCondition()
    private var pending: [Job] = []
    private var draining = false
    /// The most writes one transaction takes, to bound how long a batch holds the write lock.
    private let maximumBatch = 2000
    /// How long a batch may wait for writes that are on their way (``expectedWrites``), so the
    /// outcomes of refreshes sent together share one commit instead of one each.
    private let linger: TimeInterval
    /// Writes expected soon: refreshes whose claim is durable and whose outcome is not yet written.
    private let expectedWrites: @Sendable () -> Int
    /// The writer is waiting for ``expectedWrites``: an arrival that completes them wakes it.
    private var lingering = false

    /// Figures for the benchmark: commits made and writes they carried.
    private(set) var commits = 0
    private(set) var writes = 0

    /// Statements the writer's connection keeps prepared (for tests).
    var cachedStatementCount: Int { queue.sync { connection.cachedStatementCount } }

    init(connection: SQLiteConnection, linger: TimeInterval = 0, expectedWrites: @escaping @Sendable () -> Int = { 0 }) {
        self.connection = connection
        self.linger = linger
        self.expectedWrites = expectedWrites
    }

    /// Runs `body` in the next batch and returns its result once that batch is durable.
    func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            var outcome: Result<T, any Error>?
            enqueue(Job(
                run: { db in
                    do { outcome = .success(try body(db)) } catch {
                        outcome = .failure(error)
                        throw error
                    }
                },
                finish: { commitError in
                    if let commitError {
                        continuation.resume(throwing: commitError)
                    } else {
                        continuation.resume(with: outcome ?? .failure(StoreError.sqlite(code: -1, message: "write did not run", path: "")))
                    }
                }))
        }
    }

    private func enqueue(_ job: Job) {
        lock.lock()
        pending.append(job)
        let start = !draining
        draining = true
        if lingering, pending.count >= expectedWrites() { lock.signal() }
        lock.unlock()
        if start { queue.async { self.drain() } }
    }

    private func drain() {
        while true {
            lock.lock()
            if linger > 0, !pending.isEmpty, pending.count < min(expectedWrites(), maximumBatch) {
                // Outcomes are on their way: wait a moment (bounded) so they share this commit.
                lingering = true
                let until = Date().addingTimeInterval(linger)
                while pending.count < min(expectedWrites(), maximumBatch), lock.wait(until: until) {}
                lingering = false
            }
            let batch = Array(pending.prefix(maximumBatch))
            pending.removeFirst(batch.count)
            if batch.isEmpty { draining = false }
            lock.unlock()
            if batch.isEmpty { return }
            commit(batch)
        }
    }

    private func commit(_ batch: [Job]) {
        do {
            try connection.executeCached("BEGIN IMMEDIATE")
        } catch {
            batch.forEach { $0.finish(error) }
            return
        }
        for job in batch {
            do {
                try connection.executeCached("SAVEPOINT job")
                defer { connection.resetCachedStatements() }
                try job.run(connection)
                connection.resetCachedStatements()
                try connection.executeCached("RELEASE job")
            } catch {
                // The job's own error reaches its caller through its outcome.
                try? connection.executeCached("ROLLBACK TO job")
                try? connection.executeCached("RELEASE job")
            }
        }
        do {
            try connection.executeCached("COMMIT")
            commits += 1
            writes += batch.count
            for job in batch { job.finish(nil) }
        } catch {
            try? connection.executeCached("ROLLBACK")
            batch.forEach { $0.finish(error) }
        }
    }
}
