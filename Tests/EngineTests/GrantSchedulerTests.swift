import Dispatch
import Foundation
import Synchronization
import Testing
@testable import TokendEngine

/// Collects what the scheduler hands out, with the moment it did.
final class DueRecorder: Sendable {
    private let fired = Mutex<[(id: Int64, deadline: Date, at: Date)]>([])

    func record(_ entries: [GrantScheduler.Entry]) {
        let at = Date()
        fired.withLock { list in list += entries.map { ($0.grantID, $0.deadline, at) } }
    }

    var ids: [Int64] { fired.withLock { $0.map(\.id) } }
    var worstLateness: TimeInterval { fired.withLock { $0.map { $0.at.timeIntervalSince($0.deadline) }.max() ?? 0 } }
    /// The earliest any entry came out relative to its deadline (negative: too early).
    var earliestMargin: TimeInterval { fired.withLock { $0.map { $0.at.timeIntervalSince($0.deadline) }.min() ?? 0 } }
}

@Suite("Grant scheduler: one wall-clock timer over a heap")
struct GrantSchedulerTests {
    @Test("grants are handed out in deadline order, on time, and not before")
    func firesInOrder() async throws {
        let recorder = DueRecorder()
        let scheduler = GrantScheduler(queue: DispatchQueue(label: "test")) { recorder.record($0) }
        let start = Date()
        scheduler.schedule(3, at: start.addingTimeInterval(0.30))
        scheduler.schedule(1, at: start.addingTimeInterval(0.10))
        scheduler.schedule(2, at: start.addingTimeInterval(0.20))
        for _ in 0..<100 where recorder.ids.count < 3 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(recorder.ids == [1, 2, 3])
        #expect(recorder.earliestMargin >= -0.001, "a grant came out \(-recorder.earliestMargin) s before its deadline")
        // Timeliness is measured by the benchmark; here only "not a poll interval late", even on a loaded machine.
        #expect(recorder.worstLateness < 1, "worst lateness \(recorder.worstLateness) s")
        #expect(scheduler.statistics.pending == 0)
    }

    @Test("an earlier deadline added later re-arms the timer")
    func rearmsEarlier() async throws {
        let recorder = DueRecorder()
        let scheduler = GrantScheduler(queue: DispatchQueue(label: "test")) { recorder.record($0) }
        scheduler.schedule(1, at: Date().addingTimeInterval(60))
        scheduler.schedule(2, at: Date().addingTimeInterval(0.05))
        for _ in 0..<100 where recorder.ids.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        #expect(recorder.ids == [2])
        #expect(scheduler.statistics.pending == 1)
        #expect(scheduler.nextDeadline.map { $0.timeIntervalSinceNow > 50 } == true)
    }

    @Test("past deadlines fire at once; many due together come out in one wake-up")
    func batchesDueGrants() async throws {
        let recorder = DueRecorder()
        let scheduler = GrantScheduler(queue: DispatchQueue(label: "test")) { recorder.record($0) }
        let past = Date().addingTimeInterval(-10)
        scheduler.schedule((0..<1000).map { GrantScheduler.Entry(deadline: past.addingTimeInterval(Double($0) / 1000), grantID: Int64($0)) })
        for _ in 0..<100 where recorder.ids.count < 1000 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(recorder.ids == Array(0..<1000))
        #expect(scheduler.statistics.wakeUps <= 2)
    }

    @Test("idle with nothing due: the timer does not wake")
    func idleDoesNotWake() async throws {
        let scheduler = GrantScheduler(queue: DispatchQueue(label: "test")) { _ in }
        scheduler.schedule(1, at: Date().addingTimeInterval(3600))
        try await Task.sleep(for: .milliseconds(300))
        #expect(scheduler.statistics.wakeUps == 0)
    }

    @Test("what is due is judged by the scheduler's clock when the timer fires")
    func injectedClock() async throws {
        let recorder = DueRecorder()
        let base = Date()
        // A clock an hour ahead: when the first timer fires, the grant due in 30 minutes is due too.
        let scheduler = GrantScheduler(queue: DispatchQueue(label: "test"), now: { Date().addingTimeInterval(3600) }) {
            recorder.record($0)
        }
        scheduler.schedule(1, at: base.addingTimeInterval(0.05))
        scheduler.schedule(2, at: base.addingTimeInterval(1800))
        scheduler.schedule(3, at: base.addingTimeInterval(7200))
        for _ in 0..<100 where recorder.ids.count < 2 { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(recorder.ids == [1, 2])
        #expect(scheduler.statistics.pending == 1)
    }

    @Test("a clock behind the wall clock neither fires early nor spins: the timer waits by the scheduler's clock")
    func clockBehindDoesNotSpin() async throws {
        let recorder = DueRecorder()
        let offset: TimeInterval = -3600
        let scheduler = GrantScheduler(queue: DispatchQueue(label: "test"), now: { Date().addingTimeInterval(offset) }) {
            recorder.record($0)
        }
        // Due in 0.1 s by the real clock, but in an hour and 0.1 s by the scheduler's.
        scheduler.schedule(1, at: Date().addingTimeInterval(0.1))
        // Due in 0.2 s by the scheduler's clock.
        scheduler.schedule(2, at: Date().addingTimeInterval(offset + 0.2))
        for _ in 0..<100 where recorder.ids.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(recorder.ids == [2])
        #expect(scheduler.statistics.pending == 1)
        #expect(scheduler.statistics.wakeUps <= 2, "the timer woke \(scheduler.statistics.wakeUps) times for one due grant")
    }

    @Test("a stopped scheduler hands nothing out, even what falls due")
    func stopped() async throws {
        let recorder = DueRecorder()
        let scheduler = GrantScheduler(queue: DispatchQueue(label: "test")) { recorder.record($0) }
        scheduler.schedule(1, at: Date().addingTimeInterval(0.1))
        scheduler.stop()
        scheduler.schedule(2, at: Date().addingTimeInterval(0.05))
        try await Task.sleep(for: .milliseconds(400))
        #expect(recorder.ids.isEmpty)
        #expect(scheduler.statistics.wakeUps == 0)
    }
}
