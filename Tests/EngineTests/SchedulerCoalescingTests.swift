import Dispatch
import Foundation
import Testing
@testable import TokendEngine

/// The scheduler's coalescing window: grants falling due close together come out together (so
/// the engine claims and writes them in one durable commit), never before their deadlines, and a
/// grant due at once (a refresh asked for) is not held back.
@Suite("Grant scheduler: coalescing what falls due together")
struct SchedulerCoalescingTests {
    @Test("deadlines within the window come out in one wake-up, none early, at most a window late")
    func gathersDeadlinesOfOneWindow() async throws {
        let recorder = DueRecorder()
        let scheduler = GrantScheduler(queue: DispatchQueue(label: "test"), coalescing: 0.4) { recorder.record($0) }
        let start = Date()
        scheduler.schedule((0..<5).map { GrantScheduler.Entry(deadline: start.addingTimeInterval(0.05 + Double($0) * 0.05), grantID: Int64($0)) })
        for _ in 0..<100 where recorder.ids.count < 5 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(recorder.ids == [0, 1, 2, 3, 4])
        #expect(scheduler.statistics.wakeUps == 1, "\(scheduler.statistics.wakeUps) wake-ups for five deadlines 50 ms apart")
        #expect(recorder.earliestMargin >= -0.001, "a grant came out \(-recorder.earliestMargin) s before its deadline")
        #expect(recorder.worstLateness < 1.4, "worst lateness \(recorder.worstLateness) s")
    }

    @Test("a single grant is woken at most a tenth of its lead late: a 2-s token is not refreshed a window late")
    func shortLeadIsNotHeldBack() async throws {
        let recorder = DueRecorder()
        let scheduler = GrantScheduler(queue: DispatchQueue(label: "test"), coalescing: 30) { recorder.record($0) }
        scheduler.schedule(1, at: Date().addingTimeInterval(1))
        for _ in 0..<100 where recorder.ids.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(recorder.ids == [1])
        #expect(recorder.earliestMargin >= -0.001)
        #expect(recorder.worstLateness < 0.5, "woken \(recorder.worstLateness) s late for a deadline 1 s ahead")
    }

    @Test("a grant due now is handed out at once, not a window later")
    func dueNowIsNotHeldBack() async throws {
        let recorder = DueRecorder()
        let scheduler = GrantScheduler(queue: DispatchQueue(label: "test"), coalescing: 30) { recorder.record($0) }
        scheduler.schedule(1, at: Date().addingTimeInterval(3600))
        scheduler.schedule(2, at: Date())
        for _ in 0..<100 where recorder.ids.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(recorder.ids == [2])
        #expect(recorder.worstLateness < 1.5, "worst lateness \(recorder.worstLateness) s")
    }
}
