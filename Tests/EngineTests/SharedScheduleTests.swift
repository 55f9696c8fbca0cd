import Foundation
import Logging
import Synchronization
import Testing
@testable import TokendEngine

/// The shared schedule of several daemons: what it hands the scheduler from the database's answer.
@Suite("Shared schedule (several daemons on one database)")
struct SharedScheduleTests {
    final class Recorder: Sendable {
        let handed = Mutex<[(Int64, Date)]>([])
        let beats = Mutex(0)
    }

    @Test("each round beats the heartbeat, hands due grants at their time (a lapsed claim at once), and not twice")
    func rounds() async throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let recorder = Recorder()
        let answer = Mutex<[(id: Int64, at: Date?, abandoned: Bool)]>([
            (1, now.addingTimeInterval(5), false), (2, now.addingTimeInterval(60), true), (3, now.addingTimeInterval(-3), false),
        ])
        let schedule = SharedSchedule(
            interval: .seconds(1), horizon: 10,
            due: { _ in answer.withLock { $0 } },
            heartbeat: { recorder.beats.withLock { $0 += 1 } },
            schedule: { id, at in recorder.handed.withLock { $0.append((id, at)) } },
            now: { now }, logger: Logger(label: "test"))
        #expect(try await schedule.round() == 3)
        let first = recorder.handed.withLock { $0 }
        #expect(first.map(\.0) == [1, 2, 3])
        #expect(first.map(\.1) == [now.addingTimeInterval(5), now, now], "a lapsed claim and an overdue grant are due now")
        // The same answer again: only the lapsed claim is handed again (it stays due until claimed).
        #expect(try await schedule.round() == 1)
        // Grant 1 refreshed on another node: its new time is handed.
        answer.withLock { $0[0].at = now.addingTimeInterval(8) }
        #expect(try await schedule.round() == 2)
        #expect(recorder.handed.withLock { $0.last?.0 } == 2)
        #expect(recorder.beats.withLock { $0 } == 3)
    }
}
